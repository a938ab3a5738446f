"""The one solver layer: a thin wrapper over ``dolfinx.fem.petsc.NonlinearProblem`` (PETSc SNES).

Every sub-problem has a mandatory, unique options prefix (``gpfem_ch_``, ``gpfem_damage_``, ...), so any
PETSc option reaches it from the command line (``-gpfem_ch_snes_monitor``, ``-gpfem_ch_ksp_type gmres``).
Options are layered: built-in defaults < preset/config ``petsc`` table < command line
(:mod:`gpfem.fe.solver_options`, which also keeps the registry of prefixes in use). A size-based Krylov
default is retried with a direct solve when it breaks a Newton solve (:mod:`gpfem.fe.direct_fallback`).
Non-convergence raises :class:`~gpfem.base.errors.ConvergenceError` naming the SNES and KSP reasons.
Variable bounds (for irreversibility) switch SNES to ``vinewtonrsls``. The active PETSc backend
(``--backend``, see :mod:`gpfem.fe.backend`) sets the matrix and vector types of every solver. Every
solver has a SNES monitor that ends the solve at the next Newton iteration when a stop was requested
(SIGTERM, :func:`gpfem.base.interrupt.snes_stop_monitor`) and then raises
:class:`~gpfem.base.interrupt.Interrupted`. A ``constraint`` (periodic boundaries,
:mod:`gpfem.fe.periodic`) makes SNES solve for the reduced unknowns ``u = P u_r + g``
(:mod:`gpfem.fe.reduced_problem`); everything else stays the same.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dolfinx_solver  # noqa: F401  (loads libmpi before dolfinx/petsc4py)
from mpi4py import MPI

import dolfinx.fem.petsc
import numpy as np
from petsc4py import PETSc

from gpfem.base.errors import ConvergenceError, GpfemError
from gpfem.base.interrupt import DIVERGED_USER, Interrupted, snes_stop_monitor, stop_now
from gpfem.fe.assembly_policy import AssemblyPolicy
from gpfem.fe.backend import backend_types, ghosted_vector, retype_problem_vectors
from gpfem.fe.direct_fallback import DirectFallback
from gpfem.fe.petsc_reasons import ksp_reason_name, snes_reason_name
from gpfem.fe.solver_defaults import size_default
from gpfem.fe.solver_options import (
    LIVE_PREFIXES,
    check_prefix,
    claim_prefix,
    clear_options,
    layered_options,
    release_prefix,
)

if TYPE_CHECKING:
    import ufl
    from dolfinx import fem

    from gpfem.fe.periodic import PeriodicMap

    #: The unknown: one function, or one per unknown of a blocked problem (also a bound of ``bounds``).
    Unknowns = fem.Function | list[fem.Function] | tuple[fem.Function, ...]

__all__ = ["NonlinearSolver", "SolveInfo", "destroy_petsc"]

#: The prefixes in use (the registry of :mod:`gpfem.fe.solver_options`).
_live_prefixes = LIVE_PREFIXES


@dataclass
class SolveInfo:
    """What one nonlinear solve did.

    Attributes:
        iterations: Newton iterations.
        linear_iterations: Total KSP iterations.
        reason: SNES converged reason (positive).
    """

    iterations: int
    linear_iterations: int
    reason: int


class NonlinearSolver:
    """SNES on a residual ``F(u; v) = 0``, with a mandatory unique options prefix.

    Args:
        F: Residual form (usually ``Energy.residual``).
        u: The unknown function.
        prefix: Options prefix, e.g. ``"gpfem_ch_"`` (a trailing ``_`` is added if missing). Must be
            unique among live solvers. Keyword-only, as every argument after ``u``.
        bcs: Dirichlet conditions.
        J: Jacobian form (``ufl.derivative`` of ``F`` when ``None``).
        options: Options overriding :data:`~gpfem.fe.solver_options.DEFAULT_OPTIONS` (without the
            prefix). Options given on the command line with the prefix override these.
        bounds: ``(lower, upper)`` functions for a variational inequality; switches to ``vinewtonrsls``.
            With blocked unknowns (``u`` a list, e.g. ``[u, alpha]`` of a coupled problem) ``lower`` and
            ``upper`` are lists of one function per unknown (``+-PETSc.INFINITY`` where unbounded).
        mat_type: PETSc type of the Jacobian when no backend and no ``-PREFIX_A_mat_type`` option sets
            one (default AIJ). ``"baij"`` on a blocked space (``bs`` unknowns per node) inserts and
            multiplies ``bs x bs`` blocks: the P1^2 Cahn-Hilliard Jacobian assembles in about half
            the time of AIJ, and block ILU and MUMPS take it as it is. With a ``constraint`` the Jacobian
            is AIJ (PETSc's ``MatPtAP`` has no BAIJ product); ``-PREFIX_A_mat_type baij`` is then refused.
        constraint: A :class:`~gpfem.fe.periodic.PeriodicMap` of ``u``'s space (periodic boundaries):
            SNES then solves ``P^T F(P u_r + g) = 0`` with Jacobian ``P^T J P``; ``bcs`` leave the reduced
            space. ``u`` holds the full (periodic) solution after every solve.
        near_nullspace: A ``PETSc.NullSpace`` set on the Jacobian as its near-nullspace
            (``MatSetNearNullSpace``): algebraic multigrid (``pc_type gamg``) builds its coarse spaces
            from it, e.g. elasticity's rigid-body modes (:class:`~gpfem.fe.nullspace.RigidBodyModes`);
            other solvers ignore it. Owned by the caller. Not with a ``constraint``.
        krylov_from: Global DOFs from which this solver takes the size-based Krylov default of its prefix
            (:data:`~gpfem.fe.solver_defaults.SIZE_DEFAULTS`), with the direct fallback of :meth:`solve`;
            ``None``: the measured threshold there; 0: always. A ``ksp_type``/``pc_type`` in ``options``
            or on the command line still wins.
        objective: ``objective() -> float``, the energy whose gradient is ``F``, evaluated at the current
            ``u`` (reduced over ranks). SNES copies each trial iterate into ``u`` and calls it, so its line
            search (``bt``) decreases the energy instead of the residual norm. Not with a ``constraint``.
        symmetric: The Jacobian is symmetric (a Hessian, boundary conditions applied symmetrically): the
            direct default factorises it as ``L D L^T`` (MUMPS ``pc_type cholesky``).
        quadratic: The energy is quadratic in ``u`` (e.g. the damage problem of AT1/AT2 at fixed
            displacement): the Jacobian does not depend on ``u``, so it is computed at the first Newton
            iteration of each solve and kept for the others, and the residual is affine, ``F(x) = F(x0) + J
            (x - x0)``, so every further residual of that solve (line search, convergence test) is one
            matrix-vector product instead of an assembly. The same iterates.

    Raises:
        GpfemError: On an empty or duplicate prefix.
    """

    def __init__(
        self,
        F: ufl.Form | Sequence[ufl.Form],
        u: Unknowns,
        *,
        prefix: str,
        bcs: Sequence[fem.DirichletBC] | None = None,
        J: ufl.Form | Sequence[Sequence[ufl.Form]] | None = None,
        options: Mapping[str, object] | None = None,
        bounds: tuple[Any, Any] | None = None,
        mat_type: str | None = None,
        constraint: PeriodicMap | None = None,
        near_nullspace: PETSc.NullSpace | None = None,
        krylov_from: int | None = None,
        objective: Callable[[], float] | None = None,
        symmetric: bool = False,
        quadratic: bool = False,
    ):
        prefix = check_prefix(prefix)
        self.prefix = prefix
        #: SNES solves run, and their Newton and Krylov iterations, converged or not, retries included
        #: (one linear solve per Newton iteration), and the Jacobians assembled (fewer than Newton iterations
        #: with ``quadratic`` or :attr:`reuse_jacobian`); with ``quadratic``, the residuals assembled.
        self.counts = {"solves": 0, "newton_iterations": 0, "ksp_iterations": 0, "jacobians": 0,
                       "residuals": 0}
        space = (u[0] if isinstance(u, list | tuple) else u).function_space
        ndofs = space.dofmap.index_map.size_global * space.dofmap.index_map_bs
        # measured size-based Krylov default, with its direct retry
        self._fallback = DirectFallback(prefix, size_default(prefix, ndofs, options or {}, krylov_from))
        if self.fallback_prefix is not None and self.fallback_prefix in _live_prefixes:
            raise GpfemError(f"options prefix '{self.fallback_prefix}' (the direct retry of '{prefix}') is "
                             "already used by another live solver")
        self.options = layered_options(prefix, options, bounds is not None, self.auto_krylov, space.mesh.comm,
                                       symmetric=symmetric)
        vec_type, backend_mat = backend_types(prefix)
        if constraint is not None:
            if isinstance(u, list | tuple):
                raise GpfemError("a constraint needs a single unknown function, not a list")
            # PETSc's PtAP has no BAIJ product: the reduced problem assembles AIJ (a model's 'baij' is a
            # speed choice and is dropped; one given as an option is refused here, before any assembly).
            if backend_mat is not None and "baij" in backend_mat:
                raise GpfemError(f"option -{prefix}A_mat_type {backend_mat}: periodic boundaries need an AIJ "
                                 "Jacobian (PETSc has no P^T A P for BAIJ)")
            from gpfem.fe.reduced_problem import ReducedProblem

            self.problem: ReducedProblem | dolfinx.fem.petsc.NonlinearProblem = ReducedProblem(
                F, u, constraint, petsc_options_prefix=prefix, bcs=bcs, J=J, kind=backend_mat,
                vec_type=vec_type, petsc_options=self.options)
        else:
            self.problem = dolfinx.fem.petsc.NonlinearProblem(
                F, u, petsc_options_prefix=prefix, bcs=bcs, J=J, petsc_options=self.options,
                kind=backend_mat or mat_type,
            )
        if near_nullspace is not None:
            if constraint is not None:
                raise GpfemError("a near-nullspace with a constraint (periodic boundaries) is not supported")
            self.problem.A.setNearNullSpace(near_nullspace)
        if vec_type is not None and constraint is None:
            retype_problem_vectors(self.problem, space.dofmap.index_map, space.dofmap.index_map_bs, vec_type)
        self.snes: PETSc.SNES = self.problem.solver
        # when to assemble: the Jacobian once per solve, kept (reuse_jacobian), an affine residual
        self._assembly = AssemblyPolicy(self.snes, self.counts, quadratic=quadratic)
        # Collective: SNES calls its monitors on every rank once per Newton iteration (gpfem.base.interrupt).
        # Not on ksponly (one linear solve): a monitor makes it assemble the residual once more after the
        # solve; solve() asks before it instead.
        self._monitored = self.snes.getType() != PETSc.SNES.Type.KSPONLY
        if self._monitored:
            self.snes.setMonitor(functools.partial(snes_stop_monitor, comm=self.comm))
        self.u = u
        if objective is not None:
            if constraint is not None:
                raise GpfemError(f"{prefix}: an objective with a constraint is not supported")
            # petsc4py's stubs type the objective as returning None; PETSc uses the float it returns
            self.snes.setObjective(functools.partial(_objective, u=u, energy=objective))  # type: ignore[arg-type]
        self._bounds = bounds
        self._constrained = constraint is not None
        self._blocked = isinstance(u, list | tuple)
        if bounds is not None:
            if self._blocked:  # blocked unknowns [u0, u1, ...]: bounds stacked like the solution vector
                if self._constrained or len(bounds[0]) != len(u) or len(bounds[1]) != len(u):
                    raise GpfemError(f"{prefix}: bounds of blocked unknowns need one lower and one upper "
                                     "function per unknown")
                self._lb, self._ub = self.problem.x.duplicate(), self.problem.x.duplicate()
            elif self._constrained:  # bounds on the reduced unknowns: their values at masters/free dofs
                self._lb, self._ub = self.problem.x.duplicate(), self.problem.x.duplicate()
            elif vec_type is None:
                self._lb = bounds[0].x.petsc_vec
                self._ub = bounds[1].x.petsc_vec
            else:  # bounds of the solution's (device) type: VI kernels combine them with the solution
                imap, bs = space.dofmap.index_map, space.dofmap.index_map_bs
                self._lb, self._ub = (ghosted_vector(imap, bs, vec_type) for _ in range(2))
            self.snes.setVariableBounds(self._lb, self._ub)
        claim_prefix(prefix, self)
        if self.fallback_prefix is not None:
            claim_prefix(self.fallback_prefix, self)

    @property
    def comm(self) -> MPI.Comm:
        """The MPI communicator."""
        return self.snes.comm.tompi4py()

    @property
    def auto_krylov(self) -> dict[str, Any]:
        """The size-based Krylov options in effect (:mod:`gpfem.fe.solver_defaults`), ``{}`` if none."""
        return self._fallback.krylov

    @property
    def fallback_prefix(self) -> str | None:
        """Options prefix of the direct retry's KSP (reserved like ``prefix``), or ``None``."""
        return self._fallback.prefix

    @property
    def krylov_failures(self) -> int:
        """Krylov solves in a row that needed the direct retry (see :meth:`solve`)."""
        return self._fallback.failures

    @property
    def fell_back(self) -> bool:
        """Whether the solver switched from its Krylov default to the direct solve for good."""
        return self._fallback.kept

    # The retry's KSPs, read by the tests of the fallback.
    @property
    def _direct_ksp(self) -> Any:
        return self._fallback.direct_ksp

    @property
    def _krylov_ksp(self) -> Any:
        return self._fallback.krylov_ksp

    def __enter__(self) -> NonlinearSolver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def solve(self) -> SolveInfo:
        """Solve; on success return :class:`SolveInfo`.

        With a size-based Krylov default (:mod:`gpfem.fe.solver_defaults`), a Newton solve that the
        Krylov method breaks (``DIVERGED_LINEAR_SOLVE``) is redone from the same start with MUMPS LU (or
        the direct solve this PETSc has, :func:`~gpfem.fe.solver_defaults.direct_options`); the next
        solve uses the Krylov method again, unless the direct solve succeeded where it failed in
        :data:`~gpfem.fe.direct_fallback.KRYLOV_FAILURES_TO_DIRECT` solves in a row: then the solver
        keeps the direct solve (:class:`~gpfem.fe.direct_fallback.DirectFallback`). A retry that fails
        too raises :class:`~gpfem.base.errors.ConvergenceError` with the retry's reasons.

        Raises:
            ConvergenceError: If SNES did not converge (or produced a non-finite solution).
            Interrupted: If a stop was requested (SIGTERM) during the solve; ``u`` then holds an
                unconverged iterate that the caller must roll back. Raised on every rank.
        """
        if self._bounds is not None and self._blocked:
            for fs, v in zip(self._bounds, (self._lb, self._ub), strict=True):
                for f in fs:
                    f.x.scatter_forward()
                dolfinx.fem.petsc.assign(list(fs), v)
        elif self._bounds is not None:
            for f, v in zip(self._bounds, (self._lb, self._ub), strict=True):
                f.x.scatter_forward()
                if not self._constrained and v is not f.x.petsc_vec:
                    with v.localForm() as loc:
                        loc.array[:] = f.x.array
            if self._constrained:
                self._lb.array[:] = self.problem.restrict(self._bounds[0].x.array)  # type: ignore[union-attr]
                self._ub.array[:] = self.problem.restrict(self._bounds[1].x.array)  # type: ignore[union-attr]
        if not self._monitored and stop_now(self.comm):  # collective, as every call of solve()
            raise Interrupted(f"stopped before solve {self.prefix!r}")
        unknowns = self.u if isinstance(self.u, list | tuple) else [self.u]
        self._assembly.new_solve()
        reason, ksp_reason = self._fallback.solve(self.snes, self._run, unknowns, self.options, self.comm)
        return self._result(reason, ksp_reason)

    @property
    def reuse_jacobian(self) -> bool:
        """Whether a Newton iteration keeps the Jacobian of the last one that computed it (modified Newton).

        While ``True`` the preconditioner or factorisation built from it is kept too: for callers that accept
        an inexact step (:class:`~gpfem.drivers.altmin.AlternateMinimisation` with ``u_reuse``). The first
        iteration of a solver always computes it.
        """
        return self._assembly.reuse_jacobian

    @reuse_jacobian.setter
    def reuse_jacobian(self, value: bool) -> None:
        self._assembly.reuse_jacobian = bool(value)

    def _run(self) -> int:
        """One SNES solve; its converged reason."""
        try:
            self.problem.solve()
        except PETSc.Error as e:
            raise ConvergenceError(self.prefix, detail=f"PETSc error {e}") from e
        finally:
            self.counts["solves"] += 1
            self.counts["newton_iterations"] += self.snes.getIterationNumber()
            self.counts["ksp_iterations"] += self.snes.getLinearSolveIterations()
        # petsc4py's stubs type the reason as the ConvergedReason namespace class; the value is an int
        reason = int(self.snes.getConvergedReason())  # type: ignore[call-overload]
        if reason == DIVERGED_USER:
            raise Interrupted(f"solve {self.prefix!r} stopped at iteration {self.snes.getIterationNumber()}")
        return reason

    def _result(self, reason: int, ksp_reason: int) -> SolveInfo:
        snes = self.snes
        its = snes.getIterationNumber()
        lin = snes.getLinearSolveIterations()
        u = self.u if not isinstance(self.u, list | tuple) else self.u[0]
        finite = bool(np.all(np.isfinite(u.x.array)))
        finite = self.comm.allreduce(finite, op=MPI.LAND)
        if reason <= 0 or not finite:
            raise ConvergenceError(
                self.prefix,
                snes_reason=snes_reason_name(reason),
                ksp_reason=ksp_reason_name(ksp_reason),
                iterations=its,
                detail="; ".join(x for x in (self._fallback.note,
                                              "" if finite else "non-finite values in the solution") if x),
            )
        return SolveInfo(iterations=its, linear_iterations=lin, reason=reason)

    def close(self) -> None:
        """Release the prefix and destroy the PETSc objects now, on every rank at the same point.

        Call it collectively (or use the solver as a context manager: ``with NonlinearSolver(...) as s:``
        closes it on leaving the block): left to Python's garbage collector, ranks would destroy
        (collective) PETSc objects at different moments and could deadlock.
        """
        for p in (self.prefix, self.fallback_prefix):
            release_prefix(p, self)
        self._assembly.destroy()
        if self._bounds is not None:
            for f, v in zip(self._bounds, (self._lb, self._ub), strict=True):
                if self._blocked or v is not f.x.petsc_vec:
                    v.destroy()
            self._bounds = None
        if self.problem is not None:
            if self._constrained:
                self.problem.destroy()  # type: ignore[union-attr]  # a ReducedProblem
            else:
                destroy_petsc(self.problem)
            clear_options(self.prefix, self.options)  # ours stay in PETSc's database after DOLFINx's set-up
        self._fallback.close()
        self.problem = None  # type: ignore[assignment]


def _objective(_snes: Any, x: Any, u: Any, energy: Callable[[], float]) -> float:
    """SNES objective: copy the trial iterate ``x`` into ``u`` (ghosts too); ``energy()`` (collective)."""
    x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
    dolfinx.fem.petsc.assign(x, u)
    for f in u if isinstance(u, list | tuple) else [u]:
        f.x.scatter_forward()
    return energy()


def destroy_petsc(problem: object) -> None:
    """Destroy the PETSc objects of a DOLFINx ``NonlinearProblem``/``LinearProblem`` (collective).

    A later ``__del__`` then finds them already destroyed, which is harmless.
    """
    for name in ("solver", "A", "P_mat", "b", "x"):
        obj = getattr(problem, name, None)
        if obj is not None and hasattr(obj, "destroy"):
            obj.destroy()

