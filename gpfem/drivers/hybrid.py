"""Alternate minimisation, then bounded Newton on the coupled problem: a hybrid solver for two-field energies.

Alternate minimisation (:class:`~gpfem.drivers.altmin.AlternateMinimisation`) always lowers the energy but
crawls where the solution changes fast (a running crack: hundreds of iterations in one load step). Newton
on the coupled problem ``(u, alpha)``, bounded by ``lower <= alpha <= upper`` (SNES ``vinewtonrsls``),
converges in a few iterations near a solution but has no descent guarantee far from one (the energy is not
convex: the coupled Hessian is indefinite). The hybrid takes the best of both (Farrell & Maurini 2017):

1. alternate minimisations (each ends on a feasible iterate; an easy step converges here) until, after at
   least ``altmin_first``, their change ``max |G(alpha) - alpha|`` fell in ``patience`` of them in a row
   (while a crack runs it stays flat or grows, and Newton would fail);
2. bounded Newton on the coupled problem from that iterate (the caller's SNES: e.g. ``vinewtonrsls`` with
   the energy as objective, so its line search lowers the energy; an optional ``shift`` constant of its
   Jacobian is set to ``shift0 * ||F_k|| / ||F_0||`` before each iteration), accepted only if it converged
   and did not raise the energy; then one plain alternate-minimisation sweep must confirm the state: the
   step converged when ``max |G(alpha) - alpha| < tol``, the stopping test of alternate minimisation
   itself, so a state accepted by the hybrid is a critical point to the same tolerance as one accepted by
   alternate minimisation;
3. otherwise (Newton failed, or the sweep still moved ``alpha``) the alternate minimisations go on from
   Newton's last iterate if its energy is lower, else from the state before it, and Newton is tried again
   after ``patience * growth`` falling changes (then ``* growth`` again, ...).

Every decision uses reduced scalars (SNES reasons, energies and max-norms over all ranks), so 1 and N ranks
take the same path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gpfem.base.errors import ConvergenceError
from gpfem.base.log import get_logger

__all__ = ["HybridMinimisation", "HybridResult"]

log = get_logger("solver")


@dataclass
class HybridResult:
    """What one :meth:`HybridMinimisation.run` did.

    Attributes:
        alt_min_iterations: Alternate minimisations (the confirming sweeps included).
        newton_iterations: Newton iterations on the coupled problem, the rejected tries included.
        newton_solves: Newton tries (each is one SNES solve, accepted or not).
        within_increment: ``False`` when it stopped because ``alpha`` rose by more than ``max_increment``.
        change: ``max |G(alpha) - alpha|`` of the last alternate minimisation (reduced over ranks).
    """

    alt_min_iterations: int = 0
    newton_iterations: int = 0
    newton_solves: int = 0
    within_increment: bool = True
    change: float = float("inf")

    @property
    def iterations(self) -> int:
        """Nonlinear iterations of both kinds."""
        return self.alt_min_iterations + self.newton_iterations


class HybridMinimisation:
    """Alternate minimisation followed by bounded Newton on the coupled problem, with fallback.

    Args:
        altmin: The alternate minimisation (its ``tol``, ``max_iterations``, relaxation and monitor apply).
        newton: A :class:`~gpfem.fe.solver.NonlinearSolver` on the blocked unknowns (e.g. ``[u, alpha]``)
            with the same bounds on ``alpha`` as ``altmin``'s damage solver.
        fields: The functions Newton changes (restored when a Newton try is rejected).
        energy: Returns the total energy of the current state (reduced over ranks).
        altmin_first: Alternate minimisations in a load step before the first Newton try.
        patience: Newton is tried once the change ``max |G(alpha) - alpha|`` fell in each of this many
            alternate minimisations in a row.
        growth: Factor of ``patience`` after each rejected Newton try.
        energy_rtol: A Newton result is rejected when the energy rose by more than this times ``|energy|``.
        shift: A ``fem.Constant`` in ``newton``'s Jacobian (e.g. the factor of a positive term added to
            a block, making it positive definite where the energy is not convex), or ``None``.
        shift0: Its value at the first iteration of each try; then ``shift0 * ||F_k|| / ||F_0||`` (at most
            ``shift0``), so the last iterations are Newton's on the unshifted problem.
        name: Name in error messages.
    """

    def __init__(
        self,
        altmin: Any,
        newton: Any,
        fields: Sequence[Any],
        energy: Callable[[], float],
        altmin_first: int = 3,
        patience: int = 3,
        growth: float = 2.0,
        energy_rtol: float = 1e-10,
        shift: Any = None,
        shift0: float = 0.0,
        name: str = "gpfem_coupled_",
    ):
        self.altmin = altmin
        self.newton = newton
        self.fields = list(fields)
        self.energy = energy
        self.altmin_first = altmin_first
        self.patience = patience
        self.growth = growth
        self.energy_rtol = energy_rtol
        self.name = name
        self._saved: list[np.ndarray] = []
        self.shift = shift
        self.shift0 = shift0
        self._f0 = 0.0
        if shift is not None:
            newton.snes.setUpdate(self._update_shift)

    def _update_shift(self, snes: Any, it: int) -> None:
        """Before each Newton iteration: ``shift = shift0 * ||F_k|| / ||F_0||`` (SNES norms: global)."""
        f = snes.getFunctionNorm()
        if it == 0:
            self._f0 = f if f > 0 else 1.0
        self.shift.value = self.shift0 * min(1.0, f / self._f0)

    def run(self, max_increment: float | None = None) -> HybridResult:
        """Solve at the current load.

        Args:
            max_increment: If given, stop early (``within_increment=False``) as soon as ``alpha`` rose by
                more than this above its lower bound anywhere (after any alternate minimisation or
                accepted Newton solve): the caller refines the load step.

        Returns:
            The counts (:class:`HybridResult`).

        Raises:
            ConvergenceError: After ``altmin.max_iterations`` alternate minimisations without convergence.
        """
        am = self.altmin
        res = HybridResult()
        patience = self.patience
        changes: list[float] = []

        def ready(k: int, change: float) -> bool:
            # Newton once the alternate minimisations contract: the change fell in each of the last
            # `patience` iterations (while the crack runs it stays flat or grows: Newton would fail)
            changes.append(change)
            if k < self.altmin_first or len(changes) <= patience:
                return False
            last = changes[-patience - 1:]
            return all(b < a for a, b in zip(last, last[1:], strict=False))

        while res.alt_min_iterations < am.max_iterations:
            s = am.iterate(am.max_iterations - res.alt_min_iterations, max_increment,
                           start=res.alt_min_iterations, until=ready)
            res.alt_min_iterations += s.iterations
            res.change = s.change
            if s.converged or not s.within_increment:
                res.within_increment = s.within_increment
                return res
            if res.alt_min_iterations >= am.max_iterations:
                break
            changes.clear()
            if not self._newton(res):
                patience = int(patience * self.growth)  # wait for a longer contraction before the next try
                continue
            if max_increment is not None and am.rise() > max_increment:
                res.within_increment = False
                return res
            # confirm: one plain sweep from the Newton solution must leave alpha where it is
            s = am.iterate(1, max_increment, start=0)
            res.alt_min_iterations += 1
            res.change = s.change
            if s.converged or not s.within_increment:
                res.within_increment = s.within_increment
                return res
        raise ConvergenceError(
            self.name, iterations=res.alt_min_iterations,
            detail=f"{res.newton_solves} Newton tries ({res.newton_iterations} iterations); "
                   f"max change of '{am.alpha.name}' {res.change:.3g} > tolerance {am.tol:g}")

    def _newton(self, res: HybridResult) -> bool:
        """One bounded Newton try from the current state; ``True`` if it converged without raising the energy.

        A try that did not converge leaves its last iterate when that is finite and of lower energy (it is
        feasible: the bounds hold at every iterate), a better start for the alternate minimisations that
        follow; else the state before the try is restored.
        """
        self._saved = [f.x.array.copy() for f in self.fields]
        e0 = self.energy()
        res.newton_solves += 1
        why = ""
        try:
            info = self.newton.solve()
            res.newton_iterations += info.iterations
        except ConvergenceError as e:
            res.newton_iterations += self.newton.snes.getIterationNumber()
            why = str(e)
        e1 = self.energy()  # (reduced: the same on every rank; NaN if the iterate is not finite)
        lower = bool(np.isfinite(e1)) and e1 <= e0 + self.energy_rtol * abs(e0)
        if not why and lower:
            return True
        if not lower:
            why = why or f"the energy rose from {e0:.10g} to {e1:.10g}"
            for f, a in zip(self.fields, self._saved, strict=True):
                f.x.array[:] = a
        log.debug(f"{self.name}: Newton try {res.newton_solves} after {res.alt_min_iterations} alternate "
                  f"minimisations: {why}; {'kept its iterate' if lower else 'state restored'}")
        return False
