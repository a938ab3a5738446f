"""Quasi-static load stepping as a ready-made time model: the pseudo-time is the length of the load path.

Rate-independent problems (fracture, damage, plasticity without viscosity) follow a load programme rather
than a clock. :class:`LoadPath` turns a list of turning points into a piecewise-linear load of a
pseudo-time ``s`` (the cumulated |change| of the load, so unloading is a path too), and
:class:`QuasiStatic` is a complete :class:`~gpfem.drivers.timeloop.TimeModel` on it:
:func:`~gpfem.drivers.timeloop.run_time_loop` then gives adaptive load increments (grown after easy steps, cut
and retried after failures), history rows, field series, checkpoints and restart, with nothing written
twice.

Use it with your own solve, or subclass it and override :meth:`QuasiStatic.solve` and
:meth:`QuasiStatic.measure` (the built-in fracture model does)::

    driver = QuasiStatic(LoadPath([0.01]), load, states=[(alpha, alpha_prev), (u, u_prev)],
                         solve=lambda s, ds: (altmin.run()[0], None), energy=energy)
    run_time_loop(driver, control, LoopSettings(t_end=driver.path.s_end, stop_times=driver.path.stops), ctx)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from gpfem.drivers.measured_model import MeasuredModel
from gpfem.drivers.stepping import StepResult

if TYPE_CHECKING:
    from dolfinx import fem

    from gpfem.fe.energy import Energy

__all__ = ["LoadPath", "QuasiStatic"]


class LoadPath:
    """Imposed load as a piecewise-linear function of a pseudo-time ``s``.

    ``s`` is the cumulated |change| of the load, so every turning point of ``points`` (starting from 0) is
    a pseudo-time the loop lands on exactly.

    Args:
        points: Turning points, e.g. ``[0.01, 0.0, 0.02]`` (load up to 0.01, unload, reload to 0.02).
    """

    def __init__(self, points: Sequence[float]):
        self.loads = np.array([0.0, *points], dtype=float)
        self.s = np.concatenate([[0.0], np.cumsum(np.abs(np.diff(self.loads)))])

    @property
    def s_end(self) -> float:
        """Pseudo-time at the end of the programme."""
        return float(self.s[-1])

    @property
    def stops(self) -> list[float]:
        """Pseudo-times of the turning points."""
        return [float(v) for v in self.s[1:]]

    def __call__(self, s: float) -> float:
        """The load at pseudo-time ``s``."""
        return float(np.interp(s, self.s, self.loads))


class QuasiStatic(MeasuredModel):
    """Load steps along a :class:`LoadPath`: set the load, solve, accept or roll back.

    Args:
        path: The load programme.
        load: A ``fem.Constant`` the boundary conditions (or loads) use, set to ``path(s)``; or a callable
            ``set_load(value)``.
        states: Pairs ``(function, previous)``: ``previous`` holds the last accepted value, restored on a
            rejected step (it may double as a bound, e.g. the damage's irreversibility bound).
        solve: ``solve(s, ds) -> (iterations, reason)`` at the load already set: ``reason`` is ``None`` on
            success, else why the step must be retried with a smaller increment. Or override
            :meth:`solve`. A :class:`~gpfem.base.errors.ConvergenceError` also rejects the step.
        energy: The :class:`~gpfem.fe.energy.Energy` of the default :meth:`measure`.
        iterations_key: History column of the iterations a step took.
        outputs: Functions of the field series (default: the first function of each state pair).
        checkpoint: Name -> ``(function, sub-space index or None)`` for restarts (default: every state
            function and its previous value, by function name).
    """

    def __init__(
        self,
        path: LoadPath,
        load: fem.Constant | Callable[[float], None],
        states: Sequence[tuple[fem.Function, fem.Function]],
        solve: Callable[[float, float], tuple[int, str | None]] | None = None,
        energy: Energy | None = None,
        *,
        iterations_key: str = "iterations",
        outputs: Sequence[fem.Function] | None = None,
        checkpoint: Mapping[str, tuple[fem.Function, int | None]] | None = None,
    ):
        self.path = path
        self._load = load
        self.states = [tuple(pair) for pair in states]
        self._solve = solve
        self.energy = energy
        self.load_value = 0.0
        self._accepted_load = 0.0
        if checkpoint is None:
            checkpoint = {}
            for k, (f, prev) in enumerate(self.states):
                name = f.name or f"state{k}"
                checkpoint[name] = (f, None)
                checkpoint[f"{name}_prev"] = (prev, None)
        super().__init__(self.states[0][0].function_space.mesh.comm,
                         outputs if outputs is not None else [f for f, _ in self.states], checkpoint,
                         iterations_key)

    # -- what a subclass may override ------------------------------------------------------------------
    def set_load(self, value: float) -> None:
        """Impose the load ``value`` (sets the constant, or calls the ``load`` callable)."""
        self.load_value = float(value)
        if callable(self._load) and not hasattr(self._load, "value"):  # (a fem.Constant is callable too)
            self._load(float(value))
        else:
            self._load.value = float(value)

    def solve(self, s: float, ds: float) -> tuple[int, str | None]:
        """Solve at the load of ``s + ds`` (already set): ``(iterations, None)`` or ``(iterations, why)``."""
        if self._solve is None:
            raise NotImplementedError("pass solve= or override QuasiStatic.solve")
        return self._solve(s, ds)

    def measure(self) -> dict[str, float]:
        """Scalars of the current state, reduced over ranks: ``load``, every energy term and ``energy``."""
        vals = dict(self.energy.values()) if self.energy is not None else {"total": 0.0}
        return {"load": self.load_value, "energy": vals.pop("total"), **vals}

    # -- the time-model protocol (values, history_row, output_functions, checkpoint_fields: the base's) -----
    def prepare(self, t: float = 0.0) -> None:
        """Take the current state at pseudo-time ``t`` as the accepted one (start, or after a checkpoint)."""
        self.set_load(self.path(t))
        self._accepted_load = self.load_value
        for f, prev in self.states:
            prev.x.array[:] = f.x.array
        super().prepare(t)

    def try_step(self, s: float, ds: float) -> StepResult:
        """Solve at the load of pseudo-time ``s + ds``; reject if :meth:`solve` says why."""
        if self._values is None:
            self.prepare(s)
        self.set_load(self.path(s + ds))
        iterations, why = self.solve(s, ds)
        if why:
            return StepResult(False, iterations, why)
        self._trial = self.measure()
        return StepResult(True, iterations, data={self.iterations_key: iterations})

    def accept(self, s_new: float, ds: float, result: StepResult) -> None:
        """Commit: every state's ``previous`` takes its value."""
        self._accept_trial()
        self._accepted_load = self.load_value
        for f, prev in self.states:
            prev.x.array[:] = f.x.array

    def reject(self) -> None:
        """Back to the last accepted state and load."""
        for f, prev in self.states:
            f.x.array[:] = prev.x.array
        self.set_load(self._accepted_load)
