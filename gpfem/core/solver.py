"""The one solver layer: a thin wrapper over ``dolfinx.fem.petsc.NonlinearProblem`` (PETSc SNES).

Every sub-problem has a mandatory, unique options prefix (``gpfem_ch_``, ``gpfem_damage_``, ...), so any
PETSc option reaches it from the command line (``-gpfem_ch_snes_monitor``, ``-gpfem_ch_ksp_type gmres``).
Options are layered: built-in defaults < preset/config ``petsc`` table < command line. Non-convergence
raises :class:`~gpfem.core.errors.ConvergenceError` naming the SNES and KSP reasons. Variable bounds (for
irreversibility) switch SNES to ``vinewtonrsls``. The active PETSc backend (``--backend``, see
:mod:`gpfem.core.backend`) sets the matrix and vector types of every solver. Every solver has a SNES
monitor that ends the solve at the next Newton iteration when a stop was requested (SIGTERM, see
:mod:`gpfem.core.interrupt`) and then raises :class:`~gpfem.core.interrupt.Interrupted`. A
``constraint`` (periodic boundaries, :mod:`gpfem.core.periodic`) makes SNES solve for the reduced
unknowns ``u = P u_r + g`` (:mod:`gpfem.core.reduced_problem`); everything else stays the same.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dolfinx_solver  # noqa: F401  (loads libmpi before dolfinx/petsc4py)
from mpi4py import MPI

import dolfinx.fem.petsc
import numpy as np
from petsc4py import PETSc

from gpfem.core.backend import backend_types, ghosted_vector, retype_problem_vectors
from gpfem.core.errors import ConvergenceError, GpfemError
from gpfem.core.interrupt import Interrupted, stop_now
from gpfem.core.log import get_logger
from gpfem.core.solver_defaults import direct_options, has_package, size_default

__all__ = [
    "DEFAULT_OPTIONS",
    "FALLBACK",
    "KRYLOV_FAILURES_TO_DIRECT",
    "NonlinearSolver",
    "SolveInfo",
    "destroy_petsc",
    "ksp_reason_name",
    "snes_reason_name",
]

#: Newton with backtracking and a direct (MUMPS) linear solve: robust defaults for small and medium runs.
#: Without MUMPS in the loaded PETSc the direct solve is :func:`~gpfem.core.solver_defaults.direct_options`.
DEFAULT_OPTIONS: dict[str, Any] = {
    "snes_type": "newtonls",
    "snes_linesearch_type": "bt",
    "snes_rtol": 1e-9,
    "snes_atol": 1e-10,
    "snes_stol": 0.0,
    "snes_max_it": 25,
    "ksp_type": "preonly",
    "pc_type": "lu",
    "pc_factor_mat_solver_type": "mumps",
}

#: Solves in a row that the size-based Krylov default failed and MUMPS solved; then a solver keeps MUMPS.
KRYLOV_FAILURES_TO_DIRECT = 3

#: Suffix of the options prefix of the direct retry's KSP: ``-gpfem_ch_fallback_pc_factor_...`` reach it.
FALLBACK = "fallback_"

log = get_logger("solver")

_live_prefixes: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_told: set[str] = set()

#: ``pc_factor_mat_solver_type`` values -> the external package PETSc needs for them.
_SOLVER_PACKAGES = {"mumps": "mumps", "superlu_dist": "superlu_dist", "superlu": "superlu",
                    "umfpack": "suitesparse", "cholmod": "suitesparse", "klu": "suitesparse",
                    "mkl_pardiso": "mkl_pardiso", "mkl_cpardiso": "mkl_cpardiso", "strumpack": "strumpack",
                    "pastix": "pastix", "cusparse": "cuda"}


def _available_direct(prefix: str, opts: dict[str, Any], comm: Any) -> dict[str, Any]:
    """Replace a MUMPS default that this PETSc cannot do by what it can (one log line per prefix).

    A factor package named on the command line that this PETSc lacks is refused here, before any solve.
    """
    db = PETSc.Options()
    key = f"{prefix}pc_factor_mat_solver_type"
    if db.hasName(key):
        want = db.getString(key)
        need = _SOLVER_PACKAGES.get(want)
        if need is not None and not has_package(need):
            raise GpfemError(f"option -{key} {want}: this PETSc has no {need} "
                             f"(gpfem info lists its packages)")
        return opts
    if opts.get("pc_factor_mat_solver_type") != "mumps" or has_package("mumps"):
        return opts
    if db.hasName(f"{prefix}pc_type") or db.hasName(f"{prefix}ksp_type"):  # the user chose the solver
        return {k: v for k, v in opts.items() if k != "pc_factor_mat_solver_type"}
    direct, what = direct_options(comm.size)
    out = {k: v for k, v in opts.items() if not k.startswith("pc_factor_mat_solver_type")}
    out.update(direct)
    if prefix not in _told and comm.rank == 0:
        print(f"gpfem: this PETSc has no MUMPS; {prefix} solves with {what}", flush=True)
    _told.add(prefix)
    return out


def _reason_names(enum_cls: Any) -> dict[int, str]:
    return {v: k for k, v in vars(enum_cls).items() if isinstance(v, int) and not k.startswith("_")}


_SNES_REASONS = _reason_names(PETSc.SNES.ConvergedReason)
#: ``SNES_DIVERGED_USER`` (missing from petsc4py's enum): set by the stop monitor, nowhere else.
DIVERGED_USER = -12
_SNES_REASONS.setdefault(DIVERGED_USER, "DIVERGED_USER")
_KSP_REASONS = _reason_names(PETSc.KSP.ConvergedReason)


def snes_reason_name(reason: int) -> str:
    """PETSc's name of a SNES converged reason, e.g. ``DIVERGED_MAX_IT``."""
    return f"{_SNES_REASONS.get(reason, 'UNKNOWN')} ({reason})"


def ksp_reason_name(reason: int) -> str:
    """PETSc's name of a KSP converged reason, e.g. ``DIVERGED_ITS``."""
    return f"{_KSP_REASONS.get(reason, 'UNKNOWN')} ({reason})"


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
            unique among live solvers.
        bcs: Dirichlet conditions.
        J: Jacobian form (``ufl.derivative`` of ``F`` when ``None``).
        options: Options overriding :data:`DEFAULT_OPTIONS` (without the prefix). Options given on the
            command line with the prefix override these.
        bounds: ``(lower, upper)`` functions for a variational inequality; switches to ``vinewtonrsls``.
            With blocked unknowns (``u`` a list, e.g. ``[u, alpha]`` of a coupled problem) ``lower`` and
            ``upper`` are lists of one function per unknown (``+-PETSc.INFINITY`` where unbounded).
        mat_type: PETSc type of the Jacobian when no backend and no ``-PREFIX_A_mat_type`` option sets
            one (default AIJ). ``"baij"`` on a blocked space (``bs`` unknowns per node) inserts and
            multiplies ``bs x bs`` blocks: the P1^2 Cahn-Hilliard Jacobian assembles in about half
            the time of AIJ, and block ILU and MUMPS take it as it is. With a ``constraint`` the Jacobian
            is AIJ (PETSc's ``MatPtAP`` has no BAIJ product); ``-PREFIX_A_mat_type baij`` is then refused.
        constraint: A :class:`~gpfem.core.periodic.PeriodicMap` of ``u``'s space (periodic boundaries):
            SNES then solves ``P^T F(P u_r + g) = 0`` with Jacobian ``P^T J P``; ``bcs`` leave the reduced
            space. ``u`` holds the full (periodic) solution after every solve.
        objective: ``objective() -> float``, the energy whose gradient is ``F``, evaluated at the current
            ``u`` (reduced over ranks). SNES copies each trial iterate into ``u`` and calls it, so its line
            search (``bt``) decreases the energy instead of the residual norm. Not with a ``constraint``.

    Raises:
        GpfemError: On an empty or duplicate prefix.
    """

    def __init__(
        self,
        F: Any,
        u: Any,
        prefix: str,
        bcs: Sequence[Any] | None = None,
        J: Any | None = None,
        options: Mapping[str, Any] | None = None,
        bounds: tuple[Any, Any] | None = None,
        mat_type: str | None = None,
        constraint: Any | None = None,
        objective: Any | None = None,
    ):
        if not prefix or not prefix.strip("_"):
            raise GpfemError("every solver needs a non-empty options prefix, e.g. 'gpfem_ch_'")
        if not prefix.endswith("_"):
            prefix += "_"
        if prefix in _live_prefixes:
            raise GpfemError(f"options prefix '{prefix}' is already used by another live solver")
        self.prefix = prefix
        #: Krylov solves in a row that needed the MUMPS retry (see :meth:`solve`).
        self.krylov_failures = 0
        #: SNES solves run, and their Newton and Krylov iterations, converged or not, retries included
        #: (one linear solve per Newton iteration).
        self.counts = {"solves": 0, "newton_iterations": 0, "ksp_iterations": 0}
        self._direct_ksp: Any = None
        self._krylov_ksp: Any = None
        self._retry_note = ""
        opts = dict(DEFAULT_OPTIONS)
        if bounds is not None:
            opts["snes_type"] = "vinewtonrsls"
            opts["snes_linesearch_type"] = "basic"
        space = (u[0] if isinstance(u, list | tuple) else u).function_space
        ndofs = space.dofmap.index_map.size_global * space.dofmap.index_map_bs
        self.auto_krylov = size_default(prefix, ndofs, options or {})  # measured; MUMPS fallback
        #: Options prefix of the MUMPS retry's KSP (reserved like ``prefix``), or ``None``.
        self.fallback_prefix = f"{prefix}{FALLBACK}" if self.auto_krylov else None
        if self.fallback_prefix is not None and self.fallback_prefix in _live_prefixes:
            raise GpfemError(f"options prefix '{self.fallback_prefix}' (the direct retry of '{prefix}') is "
                             "already used by another live solver")
        if self.auto_krylov:
            opts.pop("pc_factor_mat_solver_type", None)
            opts.update(self.auto_krylov)
        opts.update(options or {})
        # Defaults that do not apply to what the model chose would be left unused (PETSc warns at exit).
        if opts.get("snes_type") == "ksponly":
            opts.pop("snes_linesearch_type", None)
        db = PETSc.Options()
        pc_type = db.getString(f"{prefix}pc_type") if db.hasName(f"{prefix}pc_type") else opts.get("pc_type")
        if pc_type not in ("lu", "cholesky", "ilu", "icc", "redundant"):  # the one in effect
            opts.pop("pc_factor_mat_solver_type", None)
        opts = _available_direct(prefix, opts, space.mesh.comm)
        # Command-line options with this prefix win over everything: drop ours where the user set one.
        opts = {k: v for k, v in opts.items() if not db.hasName(f"{prefix}{k}")}
        self.options = opts
        #: Whether the solver switched from its Krylov default to the direct solve for good.
        self.fell_back = False
        vec_type, backend_mat = backend_types(prefix)
        if constraint is not None:
            if isinstance(u, list | tuple):
                raise GpfemError("a constraint needs a single unknown function, not a list")
            # PETSc's PtAP has no BAIJ product: the reduced problem assembles AIJ (a model's 'baij' is a
            # speed choice and is dropped; one given as an option is refused here, before any assembly).
            if backend_mat is not None and "baij" in backend_mat:
                raise GpfemError(f"option -{prefix}A_mat_type {backend_mat}: periodic boundaries need an AIJ "
                                 "Jacobian (PETSc has no P^T A P for BAIJ)")
            from gpfem.core.reduced_problem import ReducedProblem

            self.problem = ReducedProblem(F, u, constraint, petsc_options_prefix=prefix, bcs=bcs, J=J,
                                          kind=backend_mat, vec_type=vec_type, petsc_options=opts)
        else:
            self.problem = dolfinx.fem.petsc.NonlinearProblem(
                F, u, petsc_options_prefix=prefix, bcs=bcs, J=J, petsc_options=opts,
                kind=backend_mat or mat_type,
            )
        if vec_type is not None and constraint is None:
            retype_problem_vectors(self.problem, space.dofmap.index_map, space.dofmap.index_map_bs, vec_type)
        self.snes: PETSc.SNES = self.problem.solver
        # Collective: SNES calls its monitors on every rank once per Newton iteration (gpfem.core.interrupt).
        # Not on ksponly (one linear solve): a monitor makes it assemble the residual once more after the
        # solve; solve() asks before it instead.
        self._monitored = self.snes.getType() != PETSc.SNES.Type.KSPONLY
        if self._monitored:
            self.snes.setMonitor(functools.partial(_stop_monitor, comm=self.comm))
        self.u = u
        if objective is not None:
            if constraint is not None:
                raise GpfemError(f"{prefix}: an objective with a constraint is not supported")
            self.snes.setObjective(functools.partial(_objective, u=u, energy=objective))
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
        _live_prefixes[prefix] = self
        if self.fallback_prefix is not None:
            _live_prefixes[self.fallback_prefix] = self

    @property
    def comm(self) -> Any:
        """The MPI communicator."""
        return self.snes.comm.tompi4py()

    def solve(self) -> SolveInfo:
        """Solve; on success return :class:`SolveInfo`.

        With a size-based Krylov default (:mod:`gpfem.core.solver_defaults`), a Newton solve that the
        Krylov method breaks (``DIVERGED_LINEAR_SOLVE``) is redone from the same start with MUMPS LU (or
        the direct solve this PETSc has, :func:`~gpfem.core.solver_defaults.direct_options`); the next
        solve uses the Krylov method again, unless the direct solve succeeded where it failed in
        :data:`KRYLOV_FAILURES_TO_DIRECT` solves in a row: then the solver keeps the direct solve. A retry
        that fails too raises :class:`~gpfem.core.errors.ConvergenceError` with the retry's reasons.

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
                self._lb.array[:] = self.problem.restrict(self._bounds[0].x.array)
                self._ub.array[:] = self.problem.restrict(self._bounds[1].x.array)
        if not self._monitored and stop_now(self.comm):  # collective, as every call of solve()
            raise Interrupted(f"stopped before solve {self.prefix!r}")
        backup = self._backup() if self.auto_krylov else None
        self._retry_note = ""
        reason = self._run()
        ksp_reason = self.snes.getKSP().getConvergedReason()
        if backup is not None:
            if reason == PETSc.SNES.ConvergedReason.DIVERGED_LINEAR_SOLVE:
                reason, ksp_reason = self._direct_retry(backup)
            else:
                self.krylov_failures = 0
        return self._result(reason, ksp_reason)

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
        reason = self.snes.getConvergedReason()
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
                detail="; ".join(x for x in (self._retry_note,
                                              "" if finite else "non-finite values in the solution") if x),
            )
        return SolveInfo(iterations=its, linear_iterations=lin, reason=reason)

    def _backup(self) -> list[np.ndarray]:
        us = self.u if isinstance(self.u, list | tuple) else [self.u]
        return [f.x.array.copy() for f in us]

    def _direct_retry(self, backup: list[np.ndarray]) -> tuple[int, int]:
        """Redo the solve from ``backup`` with a direct solve (MUMPS LU); its SNES and KSP reasons.

        The retry runs the same SNES with a second KSP (options prefix :attr:`fallback_prefix`, created
        once); SNES hands it its Jacobian at every Newton iteration. A retry that converges counts as a
        Krylov failure; :data:`KRYLOV_FAILURES_TO_DIRECT` of them in a row and the solver keeps MUMPS (the
        Krylov KSP is destroyed). A retry that fails too says the step, not the linear solver, was the
        problem (the stepper cuts it): it does not count, and the Krylov KSP is back for the next solve.
        """
        us = self.u if isinstance(self.u, list | tuple) else [self.u]
        for f, a in zip(us, backup, strict=True):
            f.x.array[:] = a
        ksp = self.snes.getKSP()
        krylov = f"{ksp.getType()}+{ksp.getPC().getType()}"
        why = ksp_reason_name(ksp.getConvergedReason())
        direct, what = direct_options(self.comm.size)  # MUMPS, or what this PETSc has instead
        if self._direct_ksp is None:
            self._krylov_ksp = ksp
            d = PETSc.KSP().create(self.snes.getComm())
            d.setOptionsPrefix(self.fallback_prefix)
            # Through the options database (pc redundant's inner solver has no other way in); options the
            # user gave with the fallback prefix win. Ours are removed again after use (no 'unused option'
            # warning at exit), but pc redundant's, which its PCSetUp reads.
            db = PETSc.Options()
            pre = self.fallback_prefix
            ours = [f"{pre}{k}" for k in direct if not db.hasName(f"{pre}{k}")]
            for k, v in direct.items():
                if f"{pre}{k}" in ours:
                    db[f"{pre}{k}"] = v
            d.setFromOptions()
            for key in ours:
                if not key.startswith(f"{self.fallback_prefix}redundant_"):
                    db.delValue(key)
            self._direct_ksp = d
        self.snes.setKSP(self._direct_ksp)
        keep = False
        try:
            reason = self._run()
            ksp_reason = self._direct_ksp.getConvergedReason()
            if reason > 0:
                self.krylov_failures += 1
                keep = self.krylov_failures >= KRYLOV_FAILURES_TO_DIRECT
        finally:
            if not keep:
                self.snes.setKSP(self._krylov_ksp)
        if keep:
            self._krylov_ksp.destroy()
            self._krylov_ksp = None
            for k in self.auto_krylov:
                self.options.pop(k, None)
            self.options.update(direct)
            self.auto_krylov = {}
            self.fell_back = True
            log.warning(f"{self.prefix}: {krylov} failed ({why}) in {self.krylov_failures} solves in a row "
                        f"that {what} then solved: {what} from now on")
        elif reason > 0:
            log.info(f"{self.prefix}: {krylov} failed ({why}); the solve redone with {what} converged")
        else:
            self._retry_note = f"redone with {what} after {krylov} failed ({why})"
        return reason, ksp_reason

    def close(self) -> None:
        """Release the prefix and destroy the PETSc objects now, on every rank at the same point.

        Call it collectively: left to Python's garbage collector, ranks would destroy (collective)
        PETSc objects at different moments and could deadlock.
        """
        for p in (self.prefix, self.fallback_prefix):
            if p is not None and _live_prefixes.get(p) is self:
                del _live_prefixes[p]
        if self._bounds is not None:
            for f, v in zip(self._bounds, (self._lb, self._ub), strict=True):
                if self._blocked or v is not f.x.petsc_vec:
                    v.destroy()
            self._bounds = None
        if self.problem is not None:
            if self._constrained:
                self.problem.destroy()
            else:
                destroy_petsc(self.problem)
            # Our options stay in PETSc's global database after DOLFINx's setup (measured with DOLFINx
            # 0.11 / petsc4py 3.25: its clean-up leaves them); a later solver with this prefix (a model
            # rebuilt on an adapted mesh) would take them for the user's and lose the size-based default
            # and its MUMPS fallback. Remove ours; options the user set were never in self.options.
            db = PETSc.Options()
            for k in self.options:
                if db.hasName(f"{self.prefix}{k}"):
                    db.delValue(f"{self.prefix}{k}")
        for ksp in (self._direct_ksp, self._krylov_ksp):
            if ksp is not None:
                ksp.destroy()
        self._direct_ksp = self._krylov_ksp = None
        self.problem = None  # type: ignore[assignment]


def _stop_monitor(snes: Any, _its: int, _norm: float, comm: Any) -> None:
    """End the solve with ``SNES_DIVERGED_USER`` when any rank was asked to stop now (collective)."""
    if stop_now(comm):
        snes.setConvergedReason(DIVERGED_USER)


def _objective(_snes: Any, x: Any, u: Any, energy: Any) -> float:
    """SNES objective: copy the trial iterate ``x`` into ``u`` (ghosts too); ``energy()`` (collective)."""
    x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
    dolfinx.fem.petsc.assign(x, u)
    for f in u if isinstance(u, list | tuple) else [u]:
        f.x.scatter_forward()
    return energy()


def destroy_petsc(problem: Any) -> None:
    """Destroy the PETSc objects of a DOLFINx ``NonlinearProblem``/``LinearProblem`` (collective).

    A later ``__del__`` then finds them already destroyed, which is harmless.
    """
    for name in ("solver", "A", "P_mat", "b", "x"):
        obj = getattr(problem, name, None)
        if obj is not None and hasattr(obj, "destroy"):
            obj.destroy()

