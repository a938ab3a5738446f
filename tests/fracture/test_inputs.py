"""Bad input: one clear error naming the parameter, before any solve; a warning for an unresolved ell."""

from __future__ import annotations

import pytest
from helpers import run_cli

from gpfem.app.parameters import resolve
from gpfem.base.errors import ParameterError
from gpfem.models.fracture_spec import PARAMETERS, PRESETS


@pytest.mark.parametrize(("key", "value"), [("nu", 0.5), ("nu", -1.0), ("nu", 0.7), ("Gc", 0.0),
                                            ("Gc", -1.0), ("ell", 0.0), ("split", "miehe"),
                                            ("model", "AT3")])
def test_bad_parameters_are_refused(key, value):
    """nu outside (-1, 0.5), Gc <= 0, unknown model or split: ParameterError naming the parameter."""
    with pytest.raises(ParameterError, match=f"'{key}'"):
        resolve(PARAMETERS, PRESETS["sent"], {key: value})


def test_good_parameters_resolve():
    """The presets themselves are valid, nu just inside the open interval is accepted."""
    for name in PRESETS:
        resolve(PARAMETERS, PRESETS[name])
    assert resolve(PARAMETERS, PRESETS["sent"], {"nu": 0.499})["nu"] == 0.499


def test_cli_refuses_nu_before_any_work(tmp_path):
    """The CLI exits non-zero with one line naming nu, without building a mesh."""
    proc = run_cli(["run", "fracture", "--preset", "sent", "--out", str(tmp_path / "x"),
                    "--set", "nu=0.5"], check=False)
    assert proc.returncode != 0
    assert "parameter 'nu'" in proc.stderr
    assert "notched_plate" not in proc.stdout


def test_small_ell_warns(tmp_path):
    """ell below about two elements: a warning naming ell and h (the run still goes on)."""
    proc = run_cli(["run", "fracture", "--preset", "sent-ci", "--out", str(tmp_path / "w"),
                    "--set", "ell=0.01", "--set", "max_steps=1", "--set", "output_format=none"])
    assert "warning: ell = 0.01" in proc.stdout + proc.stderr
    proc = run_cli(["run", "fracture", "--preset", "sent-ci", "--out", str(tmp_path / "ok"),
                    "--set", "max_steps=1", "--set", "output_format=none"])
    assert "warning" not in proc.stdout + proc.stderr


def test_non_convergence_stops_the_run(tmp_path):
    """Alternate minimisation capped at 1 iteration: steps are cut to dload_min, then the run stops with
    a typed error (exit code non-zero, 'did not converge' in the message), never silently going on.
    (``solver=altmin``: the message names its prefix; the hybrid's failure is tested in
    test_coupled_solver.py.)"""
    out = tmp_path / "nc"
    proc = run_cli(["run", "fracture", "--preset", "sent-ci", "--out", str(out), "--set", "altmin_max_it=1",
                    "--set", "dload_min=2.5e-4", "--set", "output_format=none", "--set", "solver=altmin"],
                   check=False)
    assert proc.returncode != 0
    assert "gpfem_altmin_" in proc.stderr and "did not converge" in proc.stderr
    from helpers import read_json

    assert read_json(out / "summary.json")["status"].startswith("failed")
