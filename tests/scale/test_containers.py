"""Container recipes and cluster scripts: they parse, pin what pyproject pins, and their commands run here."""

import json
import os
import re
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from helpers import BIN, ROOT

C = ROOT / "containers"
DOCKER_INSTRUCTIONS = {"FROM", "ARG", "ENV", "RUN", "COPY", "WORKDIR", "CMD", "LABEL", "ENTRYPOINT", "USER"}


def dockerfile(path: Path) -> list[tuple[str, str]]:
    """(instruction, argument) pairs, continuation lines joined; fails on an unknown instruction."""
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instr, _, arg = line.partition(" ")
        assert instr in DOCKER_INSTRUCTIONS, f"{path.name}: unknown instruction {instr!r}"
        out.append((instr, arg.strip()))
    assert out[0][0] in ("ARG", "FROM")
    return out


def apptainer(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(header, sections) of an Apptainer definition file."""
    header, sections, cur = {}, {}, None
    for line in path.read_text().splitlines():
        if line.startswith("#") and cur is None:
            continue
        if m := re.match(r"^%(\w+)\s*$", line):
            cur = m.group(1)
            sections[cur] = ""
        elif cur is None and line.strip():
            k, _, v = line.partition(":")
            header[k.strip()] = v.strip()
        elif cur is not None:
            sections[cur] += line + "\n"
    return header, sections


def docker_args(path: Path) -> dict[str, str]:
    return dict(a.split("=", 1) for i, a in dockerfile(path) if i == "ARG" and "=" in a)


def test_cpu_dockerfile_is_the_readme_route():
    ins = dockerfile(C / "cpu.Dockerfile")
    runs = [a for i, a in ins if i == "RUN"]
    assert any(r.startswith("bash scripts/setup.sh") for r in runs)
    copied = {a.split()[0] for i, a in ins if i == "COPY"}
    assert {"pyproject.toml", "scripts", "gpfem"} <= copied
    for readme_cmd in ("demo.sh", "test.sh"):  # the README's two commands run the same set-up
        assert "setup.sh" in (ROOT / "scripts" / readme_cmd).read_text()


def test_gpu_dockerfile_pins_match_the_pypi_route():
    args = docker_args(C / "gpu.Dockerfile")
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [*deps["dependencies"], *deps["optional-dependencies"]["ml"]]
    pins = dict(d.split("==") for d in reqs if "==" in d)
    assert args["GMSH_VERSION"] == pins["gmsh"] and args["PYVISTA_VERSION"] == pins["pyvista"]
    assert args["TORCH_VERSION"] == pins["torch"]
    assert pins["dolfinx-solver-real"].startswith(args["DOLFINX_VERSION"])
    for arg, dist in [("BASIX_VERSION", "fenics-basix"), ("FFCX_VERSION", "fenics-ffcx"), ("UFL_VERSION",
                      "fenics-ufl"), ("MPI4PY_VERSION", "mpi4py"), ("NUMPY_VERSION", "numpy")]:
        assert args[arg] == metadata.version(dist), arg
    from mpi4py import MPI  # noqa: F401

    from petsc4py import PETSc

    assert args["PETSC_VERSION"] == ".".join(map(str, PETSc.Sys.getVersion()))
    run = " ".join(a for i, a in dockerfile(C / "gpu.Dockerfile") if i == "RUN")
    for flag in ("--with-cuda=1", "--download-kokkos", "--download-kokkos-kernels", "--download-mumps",
                 "petsc4py==${PETSC_VERSION}", "--branch v${DOLFINX_VERSION}",
                 "pip install -q --no-deps -e ."):
        assert flag in run, flag
    assert "dolfinx-solver-real" not in run  # the PyPI PETSc would shadow the CUDA one
    # the apt libraries of scripts/setup.sh are in the GPU image too
    apt = re.search(r"APT_PACKAGES=\(([^)]*)\)", (ROOT / "scripts" / "setup.sh").read_text()).group(1).split()
    assert all(p in run for p in apt if p not in ("gcc", "libc6-dev"))


def test_shim_module_only_loads_mpi():
    text = (C / "shim" / "dolfinx_solver" / "__init__.py").read_text()
    assert "from mpi4py import MPI" in text and "dolfinx" not in text.split('"""')[-1].replace("DOLFINX", "")


@pytest.mark.parametrize("name", ["gpfem-gpu.def", "gpfem-cpu.def"])
def test_apptainer_definitions(name):
    header, sections = apptainer(C / name)
    assert header["Bootstrap"] in ("docker", "docker-archive", "docker-daemon") and header["From"]
    assert {"environment", "runscript", "test", "help", "labels"} <= set(sections)
    assert 'exec gpfem "$@"' in sections["runscript"] and "gpfem info" in sections["test"]
    if name == "gpfem-cpu.def":
        assert "bash scripts/setup.sh" in sections["post"]
        for line in sections["files"].split("\n"):
            if line.strip():
                assert (ROOT / line.split()[0]).exists(), line
    else:
        assert header["From"] == "gpfem-gpu.tar"


def test_shell_scripts_parse():
    scripts = [*C.glob("slurm/*.sbatch"), *ROOT.glob("benchmarks/*.sh")]
    assert scripts
    for s in scripts:
        subprocess.run(["bash", "-n", str(s)], check=True)


def test_slurm_header_and_command_run_here(tmp_path):
    script = C / "slurm" / "gpfem-run.sbatch"
    sb = [ln for ln in script.read_text().splitlines() if ln.startswith("#SBATCH")]
    opts = dict(re.match(r"#SBATCH --([\w-]+)=(\S+)$", ln).groups() for ln in sb)
    assert int(opts["nodes"]) >= 2 and int(opts["ntasks-per-node"]) >= 1
    assert re.fullmatch(r"\d+:\d\d:\d\d", opts["time"])
    out = tmp_path / "o"
    env = {"PATH": "/usr/bin:/bin", "MPIEXEC": str(BIN / "mpiexec"), "GPFEM": str(BIN / "gpfem"), "NP": "2",
           "PRESET": "ci", "OUT": str(out), "GPFEM_ARGS": "--set t_end=0.3 --set png=false",
           "HOME": str(tmp_path)}
    if os.environ.get("PYTHONPATH"):  # the checkout under test, not whatever gpfem the venv points at
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    p = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert "-n 2" in p.stdout and "gpfem run cahn-hilliard --preset ci --backend cpu" in p.stdout
    s = json.loads((out / "summary.json").read_text())
    assert s["status"] == "completed" and s["mpi_size"] == 2
    env.update(BACKEND="cuda", OUT=str(tmp_path / "gpu"))
    p = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    # the wheel's PETSc names the GPU recipes; the CUDA build (.venv-gpu) on a machine without a GPU
    # says there is no usable device
    assert p.returncode == 2 and ("containers/gpu.Dockerfile" in p.stderr or "no CUDA device" in p.stderr)
