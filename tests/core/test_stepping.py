import pytest

from gpfem.base.errors import ConvergenceError
from gpfem.drivers.stepping import AdaptiveStepper, StepControl, StepResult, StepTooSmallError


class Fake:
    """Fails whenever dt > limit; counts accepted/rejected calls."""

    def __init__(self, limit, iterations=2):
        self.limit = limit
        self.iterations = iterations
        self.accepted = []
        self.rejects = 0

    def try_step(self, t, dt):
        if dt > self.limit:
            raise ConvergenceError("fake_", snes_reason="DIVERGED_MAX_IT (-5)")
        return StepResult(True, self.iterations)

    def accept(self, t_new, dt, result):
        self.accepted.append(dt)

    def reject(self):
        self.rejects += 1


def test_dt_grows_after_easy_steps_up_to_dt_max():
    m = Fake(limit=10.0)
    s = AdaptiveStepper(m, StepControl(dt=0.1, dt_min=1e-3, dt_max=1.0, grow=2.0, easy_iterations=3))
    t = 0.0
    for _ in range(6):
        t, dt, _ = s.step(t)
    assert m.accepted == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert t == pytest.approx(3.5)


def test_hard_steps_do_not_grow_dt():
    m = Fake(limit=10.0, iterations=8)
    s = AdaptiveStepper(m, StepControl(dt=0.1, dt_min=1e-3, dt_max=1.0, grow=2.0, easy_iterations=3))
    t = 0.0
    for _ in range(3):
        t, _, _ = s.step(t)
    assert m.accepted == [0.1, 0.1, 0.1]


def test_failed_step_is_cut_and_retried():
    m = Fake(limit=0.3)
    s = AdaptiveStepper(m, StepControl(dt=1.0, dt_min=1e-3, dt_max=1.0, cut=0.5))
    t, dt, _ = s.step(0.0)
    assert dt == pytest.approx(0.25) and m.rejects == 2 and s.rejected == 2


def test_failure_at_dt_min_is_an_error_not_a_silent_continue():
    m = Fake(limit=1e-6)
    s = AdaptiveStepper(m, StepControl(dt=1.0, dt_min=0.01, dt_max=1.0, cut=0.5))
    with pytest.raises(StepTooSmallError, match="dt_min"):
        s.step(0.0)
    assert m.accepted == []


def test_step_lands_on_target_time():
    m = Fake(limit=10.0)
    s = AdaptiveStepper(m, StepControl(dt=0.4, dt_min=1e-3, dt_max=1.0, grow=1.0))
    t = 0.0
    while t < 1.0:
        t, _, _ = s.step(t, t_end=1.0)
    assert t == pytest.approx(1.0) and m.accepted[-1] == pytest.approx(0.2)
