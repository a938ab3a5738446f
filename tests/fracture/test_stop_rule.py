""""Run until broken" (``stop_when_broken``): the rule alone, and the ``bar`` preset on 1 and 2 ranks."""

from __future__ import annotations

import pytest
from helpers import read_csv, read_json, run_on_1_and_2_ranks

from gpfem.drivers.stop_rules import BrokenStop, CrackThroughStop, FirstOf
from gpfem.models.fracture_spec import PRESETS


def _rows(pairs):
    return [{"load": u, "reaction_force": f} for u, f in pairs]


def test_rule_fires_after_the_peak_only():
    """Rising force: no stop; below 5% of the peak after it: stop on that row, not before."""
    rule = BrokenStop(0.05)
    rows = _rows([(0.0, 0.0), (1.0, 1.0), (2.0, 2.0), (2.1, 0.5), (2.2, 0.11), (2.3, 0.09)])
    answers = [rule.update(r) for r in rows]
    assert answers[:5] == [None] * 5
    assert answers[5] is not None and "0.09" in answers[5]


def test_rule_ignores_unloading_and_restarts_from_its_state():
    """An unloading branch drops the force below 5% of the peak without a crack: no stop. The state
    (peak, load at the peak) kept in a checkpoint gives the same decision after a restart."""
    rule = BrokenStop(0.05)
    for r in _rows([(0.0, 0.0), (1.0, 1.0), (0.5, 0.5), (0.01, 0.01), (0.0, 0.0)]):
        assert rule.update(r) is None
    again = BrokenStop(0.05)
    again.restore(rule.state())
    assert again.update({"load": 1.2, "reaction_force": 0.04}) is not None
    assert BrokenStop(0.05).update({"load": 1.2, "reaction_force": 0.04}) is None  # no peak known


def test_crack_through_fires_at_the_edge_only():
    """The shear test's tip path: inside the box no stop, no tip (nan) no stop, within the distance of
    the bottom edge (y = 0) a stop naming the tip."""
    rule = CrackThroughStop((0.0, 0.0), (1.0, 1.0), distance=0.01)
    tips = [(float("nan"), float("nan")), (0.5, 0.5), (0.70, 0.13), (0.82, 0.0224), (0.837, 0.00015)]
    answers = [rule.update({"crack_tip_x": x, "crack_tip_y": y}) for x, y in tips]
    assert answers[:4] == [None] * 4
    assert answers[4] is not None and "0.837" in answers[4] and "0.00015" in answers[4]
    # every edge counts (left, right, top), the distance is strict, nothing to restore
    assert CrackThroughStop((0, 0), (1, 1), 0.01).update({"crack_tip_x": 0.995, "crack_tip_y": 0.5})
    assert CrackThroughStop((0, 0), (1, 1), 0.01).update({"crack_tip_x": 0.5, "crack_tip_y": 0.991})
    assert CrackThroughStop((0, 0), (1, 1), 0.01).update({"crack_tip_x": 0.5, "crack_tip_y": 0.98}) is None
    assert rule.state() == {}
    with pytest.raises(ValueError, match="distance"):
        CrackThroughStop((0, 0), (1, 1), 0.0)


def test_first_of_feeds_every_rule_and_keeps_their_states():
    """The broken rule keeps learning its peak while the through rule is silent; the state of both goes
    through a checkpoint (JSON) and gives the same decision after a restart."""
    import json

    rules = FirstOf([BrokenStop(0.05), CrackThroughStop((0, 0), (1, 1), 0.01)])
    assert rules.update({"load": 1.0, "reaction_force": 2.0, "crack_tip_x": 0.5, "crack_tip_y": 0.5}) is None
    again = FirstOf([BrokenStop(0.05), CrackThroughStop((0, 0), (1, 1), 0.01)])
    again.restore(json.loads(json.dumps(rules.state())))
    assert again.rules[0].peak == 2.0
    why = again.update({"load": 1.1, "reaction_force": 0.05, "crack_tip_x": 0.5, "crack_tip_y": 0.005})
    assert why is not None and why.startswith("broken: reaction_force")  # the first rule's reason
    assert again.update({"load": 1.2, "reaction_force": 1.0, "crack_tip_x": 0.5, "crack_tip_y": 0.005})


def test_shear_preset_stops_at_the_edge_or_when_broken():
    """The shear preset's two rules in one, on the unit square's box; the bar preset's one rule alone."""
    from mpi4py import MPI

    from gpfem.drivers.stop_rules import BrokenStop, FirstOf
    from gpfem.mesh import rectangle
    from gpfem.models.fracture_run import stop_rule
    from gpfem.models.fracture_spec import FractureParameters

    square = rectangle(1.0, 1.0, 4, 4, comm=MPI.COMM_WORLD)
    rule = stop_rule(FractureParameters.from_preset("shear"), square)
    assert isinstance(rule, FirstOf) and len(rule.rules) == 2
    assert rule.update({"load": 0.0136, "reaction_force": 0.31, "crack_tip_x": 0.837,
                        "crack_tip_y": 0.00015}).startswith("broken: the crack tip (0.837")
    assert isinstance(stop_rule(FractureParameters.from_preset("bar"), square), BrokenStop)
    assert stop_rule(FractureParameters.from_preset("sent"), square) is None

@pytest.fixture(scope="module")
def bar_runs(tmp_path_factory):
    """The ``bar`` preset (run until broken) with steps of 0.05, on 1 and 2 ranks."""
    return run_on_1_and_2_ranks(tmp_path_factory.mktemp("bar"), [
        "run", "fracture", "--preset", "bar", "--set", "dload=0.05", "--set", "dload_max=0.05",
        "--set", "png=false"])


def test_bar_preset_breaks_and_stops(bar_runs):
    """Stops on the first step after the peak where the force is below 5% of the peak, far before load_max;
    the crack crosses the strip (centre line = H)."""
    rows = read_csv(bar_runs[1] / "history.csv")
    res = read_json(bar_runs[1] / "summary.json")["results"]
    f = [r["reaction_force"] for r in rows]
    peak = max(f)
    i = f.index(peak)
    assert 0 < i < len(rows) - 1
    assert f[-1] < 0.05 * peak
    assert all(v >= 0.05 * peak for v in f[i:-1])
    assert res["stopped_by"] and res["final_load"] < PRESETS["bar"]["load_max"]
    # the peak is the AT1 strength sqrt(3 Gc E / (8 ell)) (steps of 0.05: within 2%)
    H, ell = PRESETS["bar"]["H"], PRESETS["bar"]["ell"]
    assert peak / H == pytest.approx((3.0 / (8 * ell)) ** 0.5, rel=0.02)
    assert rows[-1]["crack_length"] == pytest.approx(H, rel=0.02)
    assert res["crack_length_path"] == pytest.approx(H, rel=0.02)


def test_bar_stops_at_the_same_step_on_two_ranks(bar_runs):
    """The decision is collective: 1 and 2 ranks stop at the same step and load."""
    a = read_csv(bar_runs[1] / "history.csv")
    b = read_csv(bar_runs[2] / "history.csv")
    assert len(a) == len(b)
    assert a[-1]["load"] == pytest.approx(b[-1]["load"], abs=1e-12)
    assert read_json(bar_runs[2] / "summary.json")["results"]["stopped_by"]
