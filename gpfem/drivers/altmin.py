"""Alternate minimisation of a two-field energy with a bounded second field (damage, phase field).

Minimise in the first field (``u``) with the second fixed, then in the second (``alpha``, under bounds
``lower <= alpha <= upper``) with the first fixed, until the max-norm of the change of ``alpha`` between two
iterations is below ``tol``. An over-relaxation ``omega`` of the ``alpha`` update, projected back onto the
bounds (Farrell & Maurini 2017), cuts the iterations where the solution changes fast (a running crack);
instead of it, an :class:`~gpfem.drivers.anderson.AndersonMixing` (``anderson=``) mixes the last iterates
(relaxed by ``omega`` after ``relaxation_after`` iterations) and the result is projected onto the bounds.
With ``u_one_step`` a nonlinear ``u``-problem takes one Newton step per iteration; an iteration that passes
the stopping test that way is followed by one with a converged ``u`` solve, which must pass it too, so the
stopping test is always that of converged sub-solves. With ``u_reuse`` such a step may keep the Jacobian
of an earlier iteration and its factorisation (modified Newton) while the damage moves little. Every
deciding number is reduced over ranks in one ``Allreduce`` per iteration.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mpi4py import MPI

import numpy as np
from petsc4py import PETSc

from gpfem.base.errors import ConvergenceError

__all__ = ["AlternateMinimisation", "Sweeps"]


@dataclass
class Sweeps:
    """What :meth:`AlternateMinimisation.iterate` did.

    Attributes:
        iterations: Alternate minimisations done.
        within_increment: ``False`` when it stopped because ``alpha`` rose by more than ``max_increment``.
        converged: Whether the last one met ``max |G(alpha_k) - alpha_k| < tol``.
        change: ``max |G(alpha_k) - alpha_k|`` of the last one (reduced over ranks).
    """

    iterations: int
    within_increment: bool
    converged: bool
    change: float


class AlternateMinimisation:
    """Alternate minimisation by two :class:`~gpfem.fe.solver.NonlinearSolver` s.

    Args:
        solver_u: Solves for the first field (e.g. the displacement) at fixed ``alpha``.
        solver_alpha: Solves for ``alpha`` at fixed first field, with bounds ``(lower, upper)``.
        alpha: The bounded field (the unknown of ``solver_alpha``).
        lower: Lower bound of ``alpha`` (e.g. the last accepted damage: irreversibility).
        upper: Upper bound of ``alpha``.
        tol: Stop when ``max |alpha_k - alpha_{k-1}| < tol``.
        max_iterations: Iterations before :class:`~gpfem.base.errors.ConvergenceError`.
        relaxation: Over-relaxation ``omega`` in ``[1, 2)`` (1: plain alternate minimisation).
        relaxation_after: Plain iterations before the over-relaxation starts.
        name: Name in error messages (``gpfem_altmin_``).
        anderson: An :class:`~gpfem.drivers.anderson.AndersonMixing` of the ``alpha`` update (reset at every
            :meth:`iterate` call), or ``None``: over-relaxation by ``relaxation``.
        u_one_step: One Newton step of ``solver_u`` per iteration (ignored when its SNES is ``ksponly``,
            unless ``u_reuse > 1``).
        u_reuse: With ``u_one_step``, the Jacobian of ``solver_u`` (and its factorisation) may serve up to
            this many one-step iterations in a row: a modified Newton step (1: a new one every iteration).
        u_reuse_below: Reuse it only while the max damage change of the last iteration is below this (where
            the crack runs through, the stiffness changes too much for an old factorisation).
    """

    def __init__(
        self,
        solver_u: Any,
        solver_alpha: Any,
        alpha: Any,
        lower: Any,
        upper: Any,
        tol: float = 1e-4,
        max_iterations: int = 2000,
        relaxation: float = 1.0,
        relaxation_after: int = 0,
        name: str = "gpfem_altmin_",
        anderson: Any = None,
        u_one_step: bool = False,
        u_reuse: int = 1,
        u_reuse_below: float = 0.05,
    ):
        from dolfinx import fem

        self.solver_u = solver_u
        self.solver_alpha = solver_alpha
        self.alpha = alpha
        self.lower = lower
        self.upper = upper
        self.tol = tol
        self.max_iterations = max_iterations
        self.relaxation = relaxation
        self.relaxation_after = relaxation_after
        self.name = name
        self.anderson = anderson
        # one Newton step of a nonlinear u-problem per iteration (for a linear, ksponly, one only with a
        # reused Jacobian: with a fresh one the step is the solution)
        self.u_reuse = max(1, int(u_reuse))
        self.u_one_step = u_one_step and (solver_u.snes.getType() != "ksponly" or self.u_reuse > 1)
        self.u_reuse_below = u_reuse_below
        self._reused = 0  # one-step iterations since the Jacobian of u was last computed
        self._last_change = math.inf
        self.comm = alpha.function_space.mesh.comm
        self._alpha_iter = fem.Function(alpha.function_space)
        #: Called as ``monitor(k)`` every ``monitor_every`` unconverged iterations, after the ``alpha``
        #: solve (so ``alpha`` holds a feasible iterate); it may raise to leave the iterations there (mesh
        #: adaptation does, :mod:`gpfem.models.fracture_amr`). Collective: called on every rank alike.
        self.monitor: Any = None
        self.monitor_every = 10

    def run(self, max_increment: float | None = None) -> tuple[int, bool]:
        """Minimise in turn at the current load.

        Args:
            max_increment: If given, stop early (returning ``False``) as soon as ``alpha`` rose by more than
                this above ``lower`` anywhere: the caller refines the load step.

        Returns:
            ``(iterations, within_increment)``.

        Raises:
            ConvergenceError: After ``max_iterations`` iterations without convergence.
        """
        s = self.iterate(self.max_iterations, max_increment)
        if s.converged or not s.within_increment:
            return s.iterations, s.within_increment
        raise ConvergenceError(
            self.name, iterations=self.max_iterations,
            detail=f"max change of '{self.alpha.name}' {s.change:.3g} > tolerance {self.tol:g}")

    def iterate(self, count: int, max_increment: float | None = None, start: int = 0,
                until: Callable[[int, float], bool] | None = None) -> Sweeps:
        """At most ``count`` alternate minimisations, numbered ``start + 1, ...`` (never raises on the count).

        The over-relaxation applies to iterations numbered above ``relaxation_after``, except the last of
        the call: ``alpha`` is then the plain minimiser ``G(alpha_k)`` of the last iteration (a start for
        another solver). ``iterate(1)`` is one plain sweep: its ``change`` is ``max |G(alpha) - alpha|``,
        the stopping test of :meth:`run` at the current state.

        Args:
            count: Iterations at most.
            max_increment: As in :meth:`run`.
            start: Iterations already done in this load step (for ``relaxation_after`` and the monitor).
            until: ``until(k, change)`` after each unconverged iteration (same arguments on every rank):
                ``True`` ends the call there (that iteration is the last: not relaxed).

        Returns:
            What the iterations did (:class:`Sweeps`).
        """
        omega = self.relaxation
        a, a_it = self.alpha.x.petsc_vec, self._alpha_iter.x.petsc_vec
        lo, hi = self.lower.x.petsc_vec, self.upper.x.petsc_vec
        err = math.inf
        aa = self.anderson
        if aa is not None:
            aa.reset()  # a new call: the state may come from elsewhere (a Newton try, a new mesh)
        exact = not self.u_one_step
        self._reused = 0  # the state may come from elsewhere: a fresh Jacobian first
        for k in range(start + 1, start + count + 1):
            if exact or k == start + count:
                exact = True
                self._solve_u(exact=True)
            else:
                self._solve_u(exact=False)
            a.copy(a_it)
            self.solver_alpha.solve()
            # max-norm of the plain increment G(alpha_k) - alpha_k and the largest rise above the lower
            # bound, in one reduction (fewer synchronisation points per iteration)
            new, it_ = a.getArray(readonly=True), a_it.getArray(readonly=True)
            lo_ = lo.getArray(readonly=True)
            local = np.array([np.max(np.abs(new - it_), initial=0.0), np.max(new - lo_, initial=0.0)])
            glob = np.empty(2)
            self.comm.Allreduce(local, glob, op=MPI.MAX)
            err, rise = float(glob[0]), float(glob[1])
            self._last_change = err
            if max_increment is not None and rise > max_increment:
                return Sweeps(k - start, False, False, err)
            if err < self.tol:
                if exact:
                    return Sweeps(k - start, True, True, err)
                exact = True  # a one-step iteration passed: confirm by one with a converged u solve
                continue
            exact = not self.u_one_step
            if self.monitor is not None and k % self.monitor_every == 0:
                self.monitor(k)
            if until is not None and until(k, err):
                return Sweeps(k - start, True, False, err)
            if aa is not None:
                if k == start + count:
                    continue
                # alpha <- P[x_bar + beta f_bar]: Anderson mixing of the last iterates, relaxed by omega
                # after the first relaxation_after iterations (gpfem.drivers.anderson)
                a.array[:] = aa(it_, new, omega if k > self.relaxation_after else 1.0)
                a.pointwiseMax(a, lo)
                a.pointwiseMin(a, hi)
                self.alpha.x.scatter_forward()
                continue
            if omega == 1.0 or k <= self.relaxation_after or k == start + count:
                continue
            # alpha <- P[alpha_k + omega (G(alpha_k) - alpha_k)], P: projection onto the bounds
            a.scale(omega)
            a.axpy(1.0 - omega, a_it)
            a.pointwiseMax(a, lo)
            a.pointwiseMin(a, hi)
            self.alpha.x.scatter_forward()
        return Sweeps(count, True, False, err)

    def _solve_u(self, exact: bool) -> None:
        """The u solve of one iteration: converged (``exact``) or one Newton step.

        With ``u_reuse > 1`` a one-step iteration reuses the Jacobian (and its factorisation) of an earlier
        solve, so one Jacobian serves up to ``u_reuse`` iterations in a row (a modified Newton step), while
        the last damage change is below ``u_reuse_below``; a converged solve computes it anew at every
        Newton iteration.
        """
        snes = self.solver_u.snes
        if exact:
            self.solver_u.reuse_jacobian = False
            self._reused = 1  # its last Jacobian may be reused
            self.solver_u.solve()
            return
        if self.u_reuse > 1:
            fresh = (self._reused == 0 or self._reused >= self.u_reuse
                     or self._last_change > self.u_reuse_below)
            self.solver_u.reuse_jacobian = not fresh
            self._reused = 1 if fresh else self._reused + 1
        snes.setConvergenceTest(_one_newton_step)
        try:
            self.solver_u.solve()
        finally:
            snes.setConvergenceTest("default")

    def rise(self) -> float:
        """``max (alpha - lower)`` over all ranks: the largest damage increase of the step so far."""
        local = np.max(self.alpha.x.petsc_vec.getArray(readonly=True)
                       - self.lower.x.petsc_vec.getArray(readonly=True), initial=0.0)
        return float(self.comm.allreduce(float(local), op=MPI.MAX))


def _one_newton_step(_snes: Any, it: int, _norms: Any) -> int:
    """SNES convergence test of an inexact u solve: go on at iteration 0, stop (``CONVERGED_ITS``) after 1."""
    return 0 if it == 0 else int(PETSc.SNES.ConvergedReason.CONVERGED_ITS)
