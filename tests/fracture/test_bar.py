"""Analytic checks on a strip under uniform traction (the ``bar`` preset: E = Gc = 1, ell = 0.05)."""

from __future__ import annotations

import pytest
from helpers import read_csv, read_json, run_cli

from gpfem.models.fracture_spec import PRESETS

BAR = PRESETS["bar"]


def _critical_stress(model: str) -> float:
    E, Gc, ell = BAR["E"], BAR["Gc"], BAR["ell"]
    if model == "AT1":
        return (3 * Gc * E / (8 * ell)) ** 0.5
    return 9 / 16 * (E * Gc / (3 * ell)) ** 0.5


@pytest.mark.parametrize(("model", "load_max", "dload"), [("AT1", 2.9, 0.005), ("AT2", 2.8, 0.02)])
def test_peak_stress_homogeneous_bar(tmp_path, model, load_max, dload):
    """Peak stress = sigma_c: sqrt(3 Gc E / (8 ell)) for AT1, (9/16) sqrt(E Gc / (3 ell)) for AT2, 1%."""
    out = tmp_path / model
    run_cli(["run", "fracture", "--preset", "bar", "--out", str(out), "--set", f"model={model}",
             "--set", f"load_max={load_max}", "--set", f"dload={dload}", "--set", f"dload_max={dload}",
             "--set", "ny=1", "--set", "output_format=none", "--set", "damage_bc=false",
             "--set", "stop_when_broken=0"])
    rows = read_csv(out / "history.csv")
    peak = max(r["reaction_force"] for r in rows) / BAR["H"]
    sigma_c = _critical_stress(model)
    assert abs(peak - sigma_c) / sigma_c < 0.01, (peak, sigma_c)
    # the damage stays homogeneous up to the peak (AT1: none at all before it)
    first = next(r for r in rows if r["max_damage"] > 1e-8)
    if model == "AT1":
        assert first["load"] >= 0.99 * sigma_c / BAR["E"] * BAR["L"]


def test_broken_bar_dissipates_gc_times_section(tmp_path):
    """A bar broken through (AT1, alpha = 0 at the ends) dissipates Gc H (1 + h/(c_w ell)), within 3%."""
    nx = 200
    out = tmp_path / "broken"
    run_cli(["run", "fracture", "--preset", "bar", "--out", str(out), "--set", "model=AT1",
             "--set", "damage_bc=true", "--set", f"nx={nx}", "--set", "load_max=4",
             "--set", "dload=0.02", "--set", "dload_max=0.02", "--set", "stop_when_broken=0"])
    res = read_json(out / "summary.json")["results"]
    h = BAR["L"] / nx
    gc_eff = BAR["Gc"] * (1 + h / (8 / 3 * BAR["ell"]))
    expected = gc_eff * BAR["H"]
    assert res["max_damage"] == pytest.approx(1.0, abs=1e-6)
    assert abs(res["final_dissipated_energy"] - expected) / expected < 0.03
    # the elastic energy is released: residual stiffness only
    assert res["final_elastic_energy"] < 1e-3 * res["final_dissipated_energy"]
    # one crack across the strip: the alpha = 0.5 iso-lines give the height of the strip
    assert res["crack_length_path"] == pytest.approx(BAR["H"], rel=0.02)
