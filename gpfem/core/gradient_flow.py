"""The step of an implicit gradient flow, shared by Cahn-Hilliard and the martensite model.

A gradient flow must not raise its energy. A step solves for the new state from the last accepted one,
measures it, and is rejected (so the stepper cuts dt and retries) when the energy rose by more than a
relative tolerance. Models inherit :class:`GradientFlowStepping` and keep only their physics.
"""

from __future__ import annotations

from typing import Any

from gpfem.core.stepping import StepResult

__all__ = ["GradientFlowStepping"]


class GradientFlowStepping:
    """try/accept/reject of an implicit gradient flow with an energy-descent check.

    A class using it sets ``state`` and ``state_n`` (the unknown function and its last accepted value),
    ``dt`` (a ``fem.Constant``), ``solver`` (a :class:`~gpfem.core.solver.NonlinearSolver`),
    ``energy_key`` (the key of the energy in the measures), ``energy_tol`` (relative tolerance of the
    descent check) and ``check_energy`` (bool), and implements ``_measure() -> dict`` (energies etc.,
    reduced over ranks). It may override :meth:`propose_dt`.
    """

    state: Any
    state_n: Any
    dt: Any
    solver: Any
    energy_key: str
    energy_tol: float = 1e-9
    check_energy: bool = True
    _values: dict[str, float]

    def _measure(self) -> dict[str, float]:
        raise NotImplementedError

    @property
    def values(self) -> dict[str, float]:
        """The measures of the last accepted state."""
        return dict(self._values)

    def propose_dt(self, new: float, old: float, dt: float) -> float | None:
        """The next step from the energy change (``None``: the stepper's iteration rule decides)."""
        return None

    def try_step(self, t: float, dt: float) -> StepResult:
        """Solve for the state at ``t + dt``; reject it if the energy rose."""
        self.dt.value = dt
        self.state.x.array[:] = self.state_n.x.array
        info = self.solver.solve()
        vals = self._measure()
        new, old = vals[self.energy_key], self._values[self.energy_key]
        if self.check_energy and new > old + self.energy_tol * max(1.0, abs(old)):
            return StepResult(False, info.iterations, f"free energy rose by {new - old:.3g}")
        return StepResult(True, info.iterations, dt_next=self.propose_dt(new, old, dt),
                          data={"newton_iterations": info.iterations, "_values": vals})

    def accept(self, t_new: float, dt: float, result: StepResult) -> None:
        """Make the trial state the current one."""
        self._values = result.data.pop("_values")
        self.state_n.x.array[:] = self.state.x.array

    def reject(self) -> None:
        """Go back to the last accepted state."""
        self.state.x.array[:] = self.state_n.x.array

    def restarted(self) -> None:
        """Sync the previous state and the measures after loading a checkpoint."""
        self.state_n.x.array[:] = self.state.x.array
        self._values = self._measure()
