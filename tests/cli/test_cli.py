"""The command line: bad input ends with one clear line and exit 2, before any solve."""

import json

import pytest
from helpers import run_cli


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "nosuchmodel"], "unknown model 'nosuchmodel'"),
        (["run", "cahn-hilliard", "--preset", "nope"], "unknown preset 'nope'"),
        (["run", "cahn-hilliard", "--set", "kapa=1"],
         "parameter 'kapa': unknown parameter (did you mean 'kappa'?)"),
        (["run", "cahn-hilliard", "--set", "kappa=-2"], "parameter 'kappa': must be > 0"),
        (["run", "cahn-hilliard", "--set", "kappa=nan"], "parameter 'kappa': must be finite"),
        (["run", "cahn-hilliard", "--set", "nx=ten"], "parameter 'nx': expected int"),
        (["run", "cahn-hilliard", "--set", "theta=0.2"], "parameter 'theta'"),
        (["run", "cahn-hilliard", "--set", "kappa"], "expected key=value"),
        (["run", "cahn-hilliard", "--mesh", "/no/such/file.msh"], "mesh file not found"),
        (["run", "cahn-hilliard", "--mesh", "README.md"], "must be .msh or .geo"),
        (["run", "cahn-hilliard", "--config", "/no/such.toml"], "parameter 'config': file not found"),
        (["run", "cahn-hilliard", "--backend", "cuda"], "backend 'cuda'"),  # no CUDA PETSc or no device
        (["run", "cahn-hilliard", "--backend", "opencl"], "unknown backend 'opencl'"),
        (["run", "cahn-hilliard", "--restart", "/tmp"], "not a gpfem run folder"),
    ],
)
def test_bad_input_one_line_exit_2(args, fragment, tmp_path):
    proc = run_cli([*args, "--out", str(tmp_path / "x")], check=False, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpfem: error:"), proc.stderr
    assert fragment in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "x").exists()  # nothing was started


def test_bad_toml_and_bad_mesh_content(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("kappa = = 1\n")
    p = run_cli(["run", "cahn-hilliard", "--config", str(bad)], check=False)
    assert p.returncode == 2 and "not valid TOML" in p.stderr
    mesh = tmp_path / "broken.msh"
    mesh.write_text("this is not a mesh\n")
    p = run_cli(["run", "cahn-hilliard", "--mesh", str(mesh), "--out", str(tmp_path / "o")], check=False)
    assert p.returncode != 0 and "gpfem: error:" in p.stderr and "Traceback" not in p.stderr


def test_config_file_values_are_used(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[parameters]\nkappa = 1.5\nt_end = 2.0\npng = false\n")
    out = tmp_path / "o"
    run_cli(["run", "cahn-hilliard", "--preset", "ci", "--config", str(cfg), "--set", "t_end=1",
             "--out", str(out)])
    s = json.loads((out / "summary.json").read_text())
    assert s["parameters"]["kappa"] == 1.5 and s["parameters"]["t_end"] == 1.0  # --set wins


def test_list_and_info():
    out = run_cli(["list"]).stdout
    assert "cahn-hilliard" in out and "pfhub-1b: PFHub benchmark 1b" in out
    assert "pfhub-bm1a: old name of pfhub-1b" in out
    assert out.splitlines()[-1].startswith("(a model in a file or module is not listed here: 'gpfem list ")
    out = run_cli(["list", "cahn-hilliard"]).stdout
    assert "kappa = 2.0 [> 0]" in out and "mobility = 5.0" in out
    info = json.loads(run_cli(["info"]).stdout)
    assert info["petsc_library"].endswith((".so.3.25", ".so.3.25.5")) and info["mpi_size"] == 1
    assert info["petsc_configure"]["with-scalar-type"] == "real"
    if "dolfinx_solver/lib" in info["petsc_library"] and not info["backends"]["cuda"]:  # the PyPI wheel
        assert info["backends"] == {"cpu": True, "cuda": False, "kokkos": False}
        assert info["petsc_external_packages"]["mumps"] is True
        assert info["cuda_device"] == {"usable": False, "reason": "this PETSc has no CUDA"}
    else:  # the CUDA build (tests/gpu checks it in detail)
        assert info["backends"]["cuda"] and "usable" in info["cuda_device"]


def test_petsc_options_from_the_command_line(tmp_path):
    p = run_cli(["run", "cahn-hilliard", "--preset", "ci", "--set", "t_end=0.1", "--set", "png=false",
                 "--out", str(tmp_path / "o"), "-gpfem_ch_snes_monitor"])
    assert "SNES Function norm" in p.stdout
    p = run_cli(["run", "cahn-hilliard", "--preset", "ci", "--set", "t_end=0.1", "--set", "dt_min=0.05",
                 "--out", str(tmp_path / "o2"), "-gpfem_ch_snes_max_it", "0"], check=False)
    assert p.returncode == 1 and "did not converge" in p.stderr and "DIVERGED" in p.stderr
    s = json.loads((tmp_path / "o2" / "summary.json").read_text())
    assert s["status"].startswith("failed")


def test_old_preset_name_runs_1b_with_a_warning(caplog):
    """``pfhub-bm1a`` (the no-flux square, PFHub's 1b) still works, says so, and records 'pfhub-1b'."""
    from gpfem.app import registry
    from gpfem.base.errors import ParameterError

    spec = registry.get("cahn-hilliard")
    with caplog.at_level("WARNING", logger="gpfem"):
        name, vals = spec.preset("pfhub-bm1a")
    assert name == "pfhub-1b" and vals == spec.preset("pfhub-1b")[1] and "periodic" not in vals
    assert "preset 'pfhub-bm1a' is an old name: it runs 'pfhub-1b' (PFHub benchmark 1b" in caplog.text
    with pytest.raises(ParameterError, match="unknown preset 'pfhub-bm1x'"):
        spec.preset("pfhub-bm1x")
