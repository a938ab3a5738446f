"""Progress lines say how far a run is and when it should end (fraction of t_end or max_steps, time left)."""

from gpfem.drivers.timeloop import _duration, _Progress


def test_fraction_of_t_end_and_time_left():
    p = _Progress(t_start=0.0, step_start=0, t_end=10.0)
    line = p.line(3, 2.5, 0.5, {"energy": 1.25, "newton_iterations": 3}, wall=3.0)
    assert line.endswith("energy=1.25  newton_iterations=3  [3.0 s, 25% done, ~9 s left]"), line
    assert p.line(9, 10.0, 0.5, {}, wall=12.0).endswith("[12.0 s, 100% done]")  # at the end: nothing left


def test_a_restart_counts_from_its_own_start():
    p = _Progress(t_start=5.0, step_start=10, t_end=10.0)  # half done before this run; 2.5 in 5 s here
    assert p.line(12, 7.5, 0.5, {}, wall=5.0).endswith("[5.0 s, 75% done, ~5 s left]")
    assert "left" not in p.line(10, 5.0, 0.5, {}, wall=0.0)  # nothing done yet: no estimate


def test_max_steps_ends_first():
    p = _Progress(t_start=0.0, step_start=0, t_end=1e6, max_steps=4)
    assert p.line(1, 0.05, 0.05, {}, wall=20.0).endswith("[20.0 s, 25% done, ~60 s left]")
    assert p.fraction(0.0, 0) == 0.0 and p.fraction(2e6, 1) == 1.0


def test_duration_for_people():
    assert [_duration(s) for s in (42.4, 600.0, 12600.0)] == ["42 s", "10 min", "3.5 h"]
