"""The CUDA PETSc of scripts/build_gpu_petsc.sh, through .venv-gpu: what it reports, CPU runs, no device.

Skipped where it is not built. On a machine without a CUDA driver/device (every development machine and
CI here) ``--backend cuda`` must stop with one line and exit code 2 before any work; on a GPU machine the
device tests are left to ``benchmarks/gpu_check.sh``.
"""

import json
import os
import subprocess

import pytest
from helpers import ROOT, read_csv

GPU_VENV = ROOT / ".venv-gpu"
GPU_BIN = GPU_VENV / "bin"

pytestmark = pytest.mark.skipif(
    not (GPU_BIN / "gpfem").exists(),
    reason="the CUDA PETSc is not built (bash scripts/build_gpu_petsc.sh makes .venv-gpu)",
)


def gpu_gpfem(args, np=1, timeout=600):
    cmd = [str(GPU_BIN / "gpfem"), *args]
    if np > 1:
        cmd = [str(GPU_BIN / "mpiexec"), "-n", str(np), *cmd]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


@pytest.fixture(scope="module")
def info():
    p = gpu_gpfem(["info"])
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_info_reports_the_cuda_build(info):
    # .venv-gpu holds a copy of build/gpu/petsc/lib/libpetsc.so.3.25.5 (scripts/make_gpu_venv.sh)
    assert "/.venv-gpu/" in info["petsc_library"] and info["petsc_library"].endswith("libpetsc.so.3.25")
    assert info["petsc"] == "3.25.5" and info["backends"] == {"cpu": True, "cuda": True, "kokkos": False}
    conf = info["petsc_configure"]
    assert conf["with-cuda"] == "1" and conf["with-cuda-arch"] == "90" and conf["downloaded"] == []
    abi = (conf["with-scalar-type"], conf["with-precision"], conf["with-64-bit-indices"])
    assert abi == ("real", "double", "0")
    assert info["petsc_external_packages"]["mumps"] is False
    dev = info["cuda_device"]
    assert isinstance(dev["usable"], bool) and (dev["usable"] or dev["reason"])


def test_backend_cuda_without_device_one_line(info, tmp_path):
    if info["cuda_device"]["usable"]:
        pytest.skip("a CUDA device is usable here: benchmarks/gpu_check.sh tests it")
    for np in (1, 2):
        out = tmp_path / f"o{np}"
        p = gpu_gpfem(["run", "cahn-hilliard", "--preset", "ci", "--backend", "cuda", "--out", str(out)],
                      np=np, timeout=180)
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 2, p.stderr
        assert len(lines) == 1 and lines[0].startswith(
            "gpfem: error: backend 'cuda': this PETSc has CUDA but no CUDA device is usable here"), p.stderr
        assert "Traceback" not in p.stderr and not out.exists()


def test_cpu_run_matches_the_wheel(tmp_path):
    """CPU types on the CUDA build (no MUMPS: PETSc's LU, said once) = the wheel's run (MUMPS), round-off."""

    args = ["run", "cahn-hilliard", "--preset", "ci", "--set", "t_end=2", "--set", "png=false",
            "--set", "output_format=none"]
    p = gpu_gpfem([*args, "--out", str(tmp_path / "gpu")])
    assert p.returncode == 0, p.stderr
    assert "gpfem: this PETSc has no MUMPS; gpfem_ch_ solves with PETSc's LU" in p.stdout
    ref = subprocess.run([str(ROOT / ".venv/bin/gpfem"), *args, "--out", str(tmp_path / "ref")], cwd=ROOT,
                         env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True, text=True,
                         timeout=600)
    assert ref.returncode == 0, ref.stderr
    a, b = read_csv(tmp_path / "ref/history.csv"), read_csv(tmp_path / "gpu/history.csv")
    assert len(a) == len(b) > 3
    for ra, rb in zip(a, b, strict=True):
        for k in ("free_energy", "mass", "dt"):
            assert rb[k] == pytest.approx(ra[k], rel=1e-9)


def test_abi_check_passes():
    lib = next((ROOT / "build/gpu/petsc/lib").glob("libpetsc.so.3.25.*"))
    sp = next(GPU_VENV.glob("lib/python3*/site-packages"))
    env = dict(os.environ, WHEEL_LIB=str((sp / "dolfinx_solver/lib/libdolfinx.so.0.11").resolve().parent),
               SP=str(sp), PETSC_SRC=str(ROOT / "build/gpu/src/petsc-3.25.5"), LIBPETSC=str(lib))
    p = subprocess.run([str(GPU_BIN / "python"), str(ROOT / "scripts/petsc_abi.py"), "built"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "verdict: the built library can stand in for the wheel's" in p.stdout
