"""Single walls without elasticity (preset ``wall-1d``): closed forms, sqrt(kappa) scaling, equipartition."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import read_csv, read_json, run_cli


def _wall(tmp_path, name: str, *sets: str) -> tuple[dict, object]:
    out = tmp_path / name
    args = ["run", "martensite", "--preset", "wall-1d", "--out", str(out), "--quiet",
            "--set", "png=false", "--set", "output_format=none"]
    for s in sets:
        args += ["--set", s]
    run_cli(args)
    return read_json(out / "summary.json")["results"], out


@pytest.fixture(scope="module")
def walls_234(tmp_path_factory):
    """The two-variant 2-3-4 wall (MOOSE coefficients) at kappa = 1 and kappa = 4."""
    tmp = tmp_path_factory.mktemp("walls234")
    return {k: _wall(tmp, f"k{k}", f"kappa={k}")[0] for k in (1.0, 4.0)}


def test_double_well_wall_is_tanh_with_analytic_energy(tmp_path):
    res, out = _wall(tmp_path, "dw", "landau=double-well", "variants=1", "W=2.0", "kappa=0.5")
    wall = res["wall"]
    analytic = np.sqrt(2 * 0.5 * 2.0) / 6
    assert wall["analytic_wall_energy"] == pytest.approx(analytic)
    assert wall["wall_energy"] == pytest.approx(analytic, rel=0.01)
    assert wall["wall_gradient_energy"] == pytest.approx(analytic / 2, rel=0.01)
    # The whole computed profile is the tanh profile (1 + tanh(x / 2 delta))/2 within 1 %.
    prof = np.loadtxt(out / "profile.csv", delimiter=",", skiprows=1)
    delta = np.sqrt(0.5 / (2 * 2.0))
    x0 = wall["wall_centre"]
    exact = 0.5 * (1 + np.tanh((prof[:, 0] - x0) / (2 * delta)))
    assert np.max(np.abs(prof[:, 1] - exact)) < 0.01
    assert x0 == pytest.approx(10.0, abs=0.05)


def test_234_wall_energy_scales_as_sqrt_kappa(walls_234):
    ratio = walls_234[4.0]["wall"]["wall_energy"] / walls_234[1.0]["wall"]["wall_energy"]
    assert ratio == pytest.approx(2.0, rel=0.01)


def test_234_wall_equipartition(walls_234):
    for res in walls_234.values():
        assert res["wall"]["equipartition_ratio"] == pytest.approx(0.5, rel=0.01)
        assert res["wall"]["f_min"] == pytest.approx(-1.0, rel=1e-9)
        assert res["final"]["variant_fraction_1"] == pytest.approx(0.5, abs=0.01)


def test_wall_history_energy_never_increases(tmp_path):
    res, out = _wall(tmp_path, "hist", "t_end=20")
    e = np.array([r["total_energy"] for r in read_csv(out / "history.csv")])
    assert len(e) > 5
    assert np.all(np.diff(e) <= 1e-10 * np.abs(e[:-1]).max())


@pytest.mark.parametrize("np_", [1, 2])
def test_stop_rate_ends_a_settled_run_early_and_the_same_on_two_ranks(tmp_path, np_):
    """``stop_rate``: the wall settles by t ~ 6; the run stops there, not at t_end = 200 (collective)."""
    out = tmp_path / f"stop{np_}"
    run_cli(["run", "martensite", "--preset", "wall-1d", "--out", str(out), "--quiet", "--set", "png=false",
             "--set", "stop_rate=1e-6", "--set", "stop_window=20"], np=np_)
    res = read_json(out / "summary.json")["results"]
    rows = read_csv(out / "history.csv")
    assert res["stopped_by"].startswith("settled: |dtotal_energy/dt| / |total_energy|")
    assert 20.0 <= res["final_time"] < 40.0 and res["steps"] == len(rows) - 1 == 28
    window = [r["total_energy"] for r in rows if r["time"] >= res["final_time"] - 20.0]
    assert abs(window[-1] - window[0]) < 1e-6 * 20.0 * abs(window[-1])
    pvd = (out / "fields.pvd").read_text()
    assert f'timestep="{res["final_time"]!r}"' in pvd  # the settled state is the last field entry
