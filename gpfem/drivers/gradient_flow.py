"""Implicit gradient flows as a ready-made time model: try a step, reject it if the energy rose.

A gradient flow must not raise its energy. :class:`GradientFlow` solves for the new state from the last
accepted one, measures it, and rejects the step (so the stepper cuts dt and retries) when the energy rose
by more than a relative tolerance. It is a complete :class:`~gpfem.drivers.timeloop.TimeModel`, so
:func:`~gpfem.drivers.timeloop.run_time_loop` runs it with history, field series, checkpoints and restart.

Use it as it is, with your own Functions, solver and :class:`~gpfem.fe.energy.Energy`::

    flow = GradientFlow(solver, phi, phi_n, dt, energy)
    run_time_loop(flow, control, settings, ctx)

or subclass it and override any of the public methods below (``measure``, ``propose_dt``,
``output_functions``, ``update_outputs``, ``checkpoint_fields``, ``history_row``) — the built-in
Cahn-Hilliard and martensite models do exactly that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from gpfem.drivers.measured_model import MeasuredModel
from gpfem.drivers.stepping import StepResult

if TYPE_CHECKING:
    from dolfinx import fem

    from gpfem.fe.energy import Energy
    from gpfem.fe.solver import NonlinearSolver

__all__ = ["GradientFlow"]


def _is_mixed(V: fem.FunctionSpace) -> bool:
    return bool(getattr(V.ufl_element(), "is_mixed", False))


class GradientFlow(MeasuredModel):
    """try/accept/reject of an implicit gradient flow with an energy-descent check.

    Args:
        solver: A :class:`~gpfem.fe.solver.NonlinearSolver` for ``state`` at ``t + dt``; its residual
            uses ``state_n`` as the old state and ``dt`` as the step.
        state: The unknown ``fem.Function``.
        state_n: Its last accepted value (a ``fem.Function`` on the same space).
        dt: The ``fem.Constant`` time step of the residual (set before every solve).
        energy: The :class:`~gpfem.fe.energy.Energy` measured by the default :meth:`measure`
            (``None`` if :meth:`measure` is overridden).
        energy_key: Key of :meth:`measure` that must not rise; the default measure stores the energy's
            total under it.
        energy_tol: Relative tolerance of the descent check.
        check_energy: Reject steps that raise the energy.
        outputs: What the field series writes: a list of Functions (written as they are), a mapping
            output name -> sub-space index of a mixed ``state`` (collapsed copies), or ``None``: the state
            itself, or one collapsed copy per sub-space (``<state name>_<i>``) for a mixed state.
        checkpoint: Name -> ``(function, sub-space index or None)`` saved for restarts (P1 fields);
            ``None``: the state (one entry per sub-space for a mixed state).
    """

    def __init__(
        self,
        solver: NonlinearSolver,
        state: fem.Function,
        state_n: fem.Function,
        dt: fem.Constant,
        energy: Energy | None = None,
        *,
        energy_key: str = "energy",
        energy_tol: float = 1e-9,
        check_energy: bool = True,
        outputs: Sequence[fem.Function] | Mapping[str, int] | None = None,
        checkpoint: Mapping[str, tuple[fem.Function, int | None]] | None = None,
    ):
        self.solver = solver
        self.state = state
        self.state_n = state_n
        self.dt = dt
        self.energy = energy
        self.energy_key = energy_key
        self.energy_tol = energy_tol
        self.check_energy = check_energy
        V = state.function_space
        mixed = _is_mixed(V)
        name = state.name or "u"
        if outputs is None:
            outputs = {f"{name}_{i}": i for i in range(V.num_sub_spaces)} if mixed else [state]
        self._copies: list[tuple[fem.Function, np.ndarray]] = []
        if isinstance(outputs, Mapping):
            from dolfinx import fem

            funcs = []
            for out_name, sub in outputs.items():
                Vi, dofs = V.sub(sub).collapse()
                f = fem.Function(Vi, name=out_name)
                self._copies.append((f, np.asarray(dofs)))
                funcs.append(f)
            outputs = funcs
        if checkpoint is None:
            checkpoint = ({f"{name}_{i}": (state, i) for i in range(V.num_sub_spaces)} if mixed
                          else {name: (state, None)})
        super().__init__(V.mesh.comm, outputs, checkpoint, "newton_iterations")

    # -- what a subclass may override ------------------------------------------------------------------
    def measure(self) -> dict[str, float]:
        """Scalars of the current state, reduced over ranks: the history columns and the checked energy.

        Default: every term of ``energy`` by name, and its total under ``energy_key``.
        """
        if self.energy is None:
            raise NotImplementedError("a GradientFlow without an energy must override measure()")
        vals = dict(self.energy.values())
        return {self.energy_key: vals.pop("total"), **vals}

    def propose_dt(self, new: float, old: float, dt: float) -> float | None:
        """The next step from the energy change (``None``: the stepper's iteration rule decides)."""
        return None

    def update_outputs(self) -> None:
        """Refresh the output functions from the state (collapsed copies of sub-spaces)."""
        for f, dofs in self._copies:
            f.x.array[:] = self.state.x.array[dofs]

    # -- the time-model protocol (values, history_row, output_functions, checkpoint_fields: the base's) -----
    def prepare(self, t: float = 0.0) -> None:
        """Take the current state as the accepted one (after an initial condition or a checkpoint)."""
        self.state_n.x.array[:] = self.state.x.array
        super().prepare(t)

    def try_step(self, t: float, dt: float) -> StepResult:
        """Solve for the state at ``t + dt``; reject it if the energy rose."""
        if self._values is None:
            self.prepare(t)
        self.dt.value = dt  # type: ignore[assignment]  # (the stub types the setter as an array only)
        self.state.x.array[:] = self.state_n.x.array
        info = self.solver.solve()
        vals = self.measure()
        new, old = vals[self.energy_key], self._values[self.energy_key]  # type: ignore[index]
        if self.check_energy and new > old + self.energy_tol * max(1.0, abs(old)):
            return StepResult(False, info.iterations, f"energy '{self.energy_key}' rose by {new - old:.3g}")
        self._trial = vals
        return StepResult(True, info.iterations, dt_next=self.propose_dt(new, old, dt),
                          data={"newton_iterations": info.iterations})

    def accept(self, t_new: float, dt: float, result: StepResult) -> None:
        """Make the trial state the current one."""
        self._accept_trial()
        self.state_n.x.array[:] = self.state.x.array

    def reject(self) -> None:
        """Go back to the last accepted state."""
        self.state.x.array[:] = self.state_n.x.array

    def close(self) -> None:
        """Destroy the solver's PETSc objects (collective: call on every rank, e.g. in ``finally``)."""
        self.solver.close()
