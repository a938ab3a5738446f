"""The energy-rate stop rule: fires once the energy has settled over a full window, never before."""

import math

import pytest

from gpfem.drivers.stop_rules import EnergyRateStop


def _feed(rule, times, energy):
    for t in times:
        why = rule.update({"time": t, "E": energy(t)})
        if why:
            return t, why
    return None, None


def test_fires_when_the_relative_rate_over_the_window_falls_below_the_threshold():
    # E = -100 - 50 exp(-t/10): relative rate ~ 5 exp(-t/10) / |E|; below 1e-4 from t ~ 80
    rule = EnergyRateStop("E", rate=1e-4, window=5.0)
    t, why = _feed(rule, [0.5 * k for k in range(1, 400)], lambda t: -100 - 50 * math.exp(-t / 10))
    # |E(t) - E(t - 5)| / (5 |E(t)|) < 1e-4  <=>  50 e^{-t/10} (e^{0.5} - 1) / 5 < 1e-4 * 100 (E ~ -100)
    t_exact = 10 * math.log(50 * (math.exp(0.5) - 1) / 5 / 1e-2)
    assert t == pytest.approx(t_exact, abs=0.6)
    assert why.startswith("settled: |dE/dt| / |E|") and rule.last_rate < 1e-4


def test_never_fires_before_a_full_window_even_if_a_step_is_tiny():
    rule = EnergyRateStop("E", rate=1e-3, window=10.0)
    # constant energy: the rate is 0, but no decision until t - t0 >= window
    assert all(rule.update({"time": t, "E": -5.0}) is None for t in (0.0, 1e-6, 2.0, 9.99))
    assert rule.update({"time": 10.0, "E": -5.0})


def test_a_plateau_shorter_than_the_window_does_not_stop_the_run():
    # falls, rests on a plateau for 20 time units, falls again: window 30 sees the drop around it
    def energy(t):
        return -t if t < 10 else (-10 if t < 30 else -10 - (t - 30))

    rule = EnergyRateStop("E", rate=1e-3, window=30.0)
    t, _ = _feed(rule, [1.0 * k for k in range(0, 60)], energy)
    assert t is None
    short = EnergyRateStop("E", rate=1e-3, window=5.0)
    t, _ = _feed(short, [1.0 * k for k in range(0, 60)], energy)
    assert t == 15.0  # a window shorter than the plateau reads it as settled: why the window matters


def test_t_min_and_bad_arguments():
    rule = EnergyRateStop("E", rate=1.0, window=1.0, t_min=5.0)
    assert _feed(rule, [float(k) for k in range(10)], lambda t: 1.0)[0] == 5.0
    with pytest.raises(ValueError, match="rate > 0 and window > 0"):
        EnergyRateStop("E", rate=0.0, window=1.0)


def test_a_restored_rule_stops_where_the_uninterrupted_one_does():
    """The window's rows go into the checkpoint (JSON): a restart at any row gives the same stop."""
    import json

    times = [0.5 * k for k in range(0, 400)]

    def energy(t):
        return -100 - 50 * math.exp(-t / 10)

    t_whole, why_whole = _feed(EnergyRateStop("E", rate=1e-4, window=5.0), times, energy)
    for cut in (3, 11, 90):
        first = EnergyRateStop("E", rate=1e-4, window=5.0)
        assert _feed(first, times[:cut], energy) == (None, None)
        again = EnergyRateStop("E", rate=1e-4, window=5.0)
        again.restore(json.loads(json.dumps(first.state())))
        assert _feed(again, times[cut:], energy) == (t_whole, why_whole)
    fresh = EnergyRateStop("E", rate=1e-4, window=5.0)
    fresh.restore(None)  # a checkpoint written without a rule
    assert fresh.state() == {"rows": []}
