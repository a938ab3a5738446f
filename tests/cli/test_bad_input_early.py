"""Bad input found from the parameters alone: one line naming the parameter, exit 2, nothing written.

Huge sizes, nan/inf, wrong list element types and crossed step bounds are refused before the mesh is built
and before the output folder (params.json) is made, on one rank and under ``mpiexec -n 2`` (no hang).
"""

import pytest
from helpers import ROOT, run_cli

from gpfem.base.errors import ParameterError

ROWS = [
    (["cahn-hilliard", "--set", "nx=100000000"],
     "parameter 'nx': the mesh would have ~2.0e10 cells (~2.0e10 DOFs) and need ~"),
    (["martensite", "--set", "nx=1e8"], "parameter 'nx': the mesh would have ~1.0e10 cells"),
    (["fracture", "--set", "h_fine=1e-7"], "parameter 'h_fine': the mesh would have ~2.3e13 cells"),
    (["fracture", "--set", "load_path=[0.001, nan]"],
     "parameter 'load_path': must be finite numbers, got nan"),
    (["cahn-hilliard", "--set", "dt_min=20"], "parameter 'dt_min': must be <= dt_max (4), got 20"),
    (["martensite", "--set", "dt_min=20"], "parameter 'dt_min': must be <= dt_max (5), got 20"),
    (["fracture", "--set", "dload_min=1e-3"],
     "parameter 'dload_min': must be <= dload_max (0.0005), got 0.001"),
]

TOML = [
    ('stop_times = ["a", "b"]', "parameter 'stop_times': expected a list of numbers, got ['a', 'b']"),
    ("stop_times = [1.0, nan]", "parameter 'stop_times': must be finite numbers, got nan"),
    ("[parameters]\nkappa = inf", "parameter 'kappa': must be finite, got inf"),
    ("[parameters]\nnx = nan", "parameter 'nx': must be finite, got nan"),
]


def _refused(proc, out, line):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpfem: error: " + line), proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (out / "params.json").exists() and not out.exists()  # refused before anything was made


@pytest.mark.parametrize(("args", "line"), ROWS)
def test_refused_before_the_mesh(args, line, tmp_path):
    out = tmp_path / "x"
    _refused(run_cli(["run", *args, "--out", str(out)], check=False, timeout=120), out, line)


@pytest.mark.parametrize(("text", "line"), TOML)
def test_toml_types_and_non_finite_numbers(text, line, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(text + "\n")
    out = tmp_path / "x"
    proc = run_cli(["run", "cahn-hilliard", "--preset", "ci", "--config", str(cfg), "--out", str(out)],
                   check=False, timeout=120)
    _refused(proc, out, line)


@pytest.mark.parametrize(("args", "line"), [ROWS[0], ROWS[3], ROWS[5]])
def test_refused_on_two_ranks_without_hanging(args, line, tmp_path):
    out = tmp_path / "x"
    _refused(run_cli(["run", *args, "--out", str(out)], np=2, check=False, timeout=120), out, line)


def _args(*argv):
    from gpfem.cli import _parser

    return _parser().parse_args(["run", *argv])


def test_force_passes_the_size_check(tmp_path, monkeypatch, comm):
    """--force turns the refusal into a warning (checked in the CLI's resolution step: no mesh is built)."""
    import gpfem.app.size_check as sc
    from gpfem.app.run_command import resolve_run as _resolve_run

    monkeypatch.setattr(sc, "mem_available", lambda: 4 * 10**9)  # a 4 GB machine
    big = ["fracture", "--preset", "sent-ci", "--set", "h_fine=1e-4", "--out", str(tmp_path / "o")]
    with pytest.raises(ParameterError, match=r"parameter 'h_fine': .* \(available 4 GB\); use --force"):
        _resolve_run(_args(*big), comm)
    spec, preset, params, out, restart = _resolve_run(_args(*big, "--force"), comm)
    assert (spec.name, params["h_fine"], restart) == ("fracture", 1e-4, False)
    # a mesh file replaces the built-in mesh: nothing to estimate, nothing refused
    args = _args(*big, "--mesh", str(ROOT / "meshes" / "sent.geo"))
    assert _resolve_run(args, comm)[2]["h_fine"] == 1e-4


def test_small_run_with_force(tmp_path):
    """--force on a run that fits changes nothing."""
    out = tmp_path / "ok"
    run_cli(["run", "cahn-hilliard", "--preset", "ci", "--set", "t_end=0.1", "--set", "png=false",
             "--set", "output_format=none", "--force", "--out", str(out)], timeout=120)
    assert (out / "summary.json").exists()
