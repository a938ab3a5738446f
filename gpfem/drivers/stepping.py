"""Adaptive stepping: try a step, accept or reject; grow after easy steps, cut and retry after failures.

The stepper knows nothing of the physics. A model supplies ``try_step(t, dt) -> StepResult`` that leaves
its state ready to accept or roll back, plus ``accept()`` and ``reject()``. A stop request that interrupts
a trial (:class:`~gpfem.base.interrupt.Interrupted`, a ``KeyboardInterrupt``) rolls it back and goes on
up: the caller then holds the last accepted state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from gpfem.base.errors import ConvergenceError, GpfemError
from gpfem.base.log import logger

__all__ = ["AdaptiveStepper", "StepControl", "StepResult", "Steppable", "StepTooSmallError"]


class StepTooSmallError(ConvergenceError):
    """The step was cut below ``dt_min`` and still failed: the run stops, it never silently goes on."""


@dataclass
class StepResult:
    """Outcome of one trial step.

    Attributes:
        ok: Whether the step is acceptable.
        iterations: Nonlinear iterations used (drives the dt update).
        reason: Why it was rejected (for the log).
        data: Anything the model wants to pass to ``accept``/the history row.
        dt_next: The model's own proposal for the next step (e.g. from an error or energy estimate);
            when given it replaces the iteration-count rule (still clamped to [dt_min, dt_max]).
    """

    ok: bool
    iterations: int = 0
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    dt_next: float | None = None


class Steppable(Protocol):
    """What a model exposes to the stepper."""

    def try_step(self, t: float, dt: float) -> StepResult:
        """Compute the state at ``t + dt`` from the state at ``t``; do not commit it."""

    def accept(self, t_new: float, dt: float, result: StepResult) -> None:
        """Commit the trial state as the state at ``t_new``."""

    def reject(self) -> None:
        """Roll back to the last accepted state."""


@dataclass
class StepControl:
    """Parameters of the step-size controller.

    Attributes:
        dt: Initial step.
        dt_min: Smallest step; a failure at this size is an error.
        dt_max: Largest step.
        grow: Factor applied after an easy step.
        cut: Factor applied after a failed step.
        easy_iterations: A step is easy when it took at most this many nonlinear iterations.
        max_retries: Consecutive failed tries of one step before giving up.
    """

    dt: float
    dt_min: float
    dt_max: float
    grow: float = 1.25
    cut: float = 0.5
    easy_iterations: int = 3
    max_retries: int = 30

    def __post_init__(self) -> None:
        if not 0 < self.dt_min <= self.dt_max:
            raise GpfemError(f"need 0 < dt_min <= dt_max, got {self.dt_min}, {self.dt_max}")
        if not 0 < self.cut < 1 or self.grow < 1:
            raise GpfemError("need 0 < cut < 1 and grow >= 1")
        self.dt = min(max(self.dt, self.dt_min), self.dt_max)


class AdaptiveStepper:
    """Advance a :class:`Steppable` from ``t`` to ``t_end`` with adaptive steps.

    Args:
        model: The steppable model.
        control: Step-size control.
        log: Where rejected steps are reported (default: the ``gpfem`` logger's ``info``).
    """

    def __init__(
        self,
        model: Steppable,
        control: StepControl,
        log: Callable[[str], None] | None = None,
    ):
        self.model = model
        self.control = control
        self.log = log or logger.info
        self.rejected = 0

    def step(self, t: float, t_end: float | None = None) -> tuple[float, float, StepResult]:
        """Take one accepted step from ``t``; return ``(t_new, dt_used, result)``.

        Raises:
            StepTooSmallError: If the step fails at ``dt_min`` (or after ``max_retries`` cuts).
            KeyboardInterrupt: A stop interrupted the trial (gpfem.base.interrupt); it was rolled back.
        """
        c = self.control
        for _ in range(c.max_retries):
            dt = c.dt if t_end is None else min(c.dt, t_end - t)
            try:
                res = self.model.try_step(t, dt)
            except ConvergenceError as e:
                res = StepResult(ok=False, reason=str(e))
            except KeyboardInterrupt:
                self.model.reject()  # back to the last accepted state, which the caller checkpoints
                raise
            if res.ok:
                self.model.accept(t + dt, dt, res)
                if res.dt_next is not None:
                    c.dt = min(max(res.dt_next, c.dt_min), c.dt_max, c.dt * c.grow)
                elif res.iterations <= c.easy_iterations:
                    c.dt = min(c.dt * c.grow, c.dt_max)
                return t + dt, dt, res
            self.model.reject()
            self.rejected += 1
            if dt <= c.dt_min * (1 + 1e-12):
                raise StepTooSmallError(
                    "time step", detail=f"failed at dt_min = {c.dt_min:g} (t = {t:g}): {res.reason}"
                )
            c.dt = max(dt * c.cut, c.dt_min)
            self.log(f"  step rejected at t = {t:.6g} ({res.reason}); retry with dt = {c.dt:.4g}")
        raise StepTooSmallError("time step", detail=f"{c.max_retries} failed tries at t = {t:g}")
