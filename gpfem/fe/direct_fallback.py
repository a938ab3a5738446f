"""The direct retry of a solver whose linear solve is a size-based Krylov default.

A Krylov default (:mod:`gpfem.fe.solver_defaults`) is never trusted alone: a Newton solve that it breaks
(``DIVERGED_LINEAR_SOLVE``) is redone from the same start by the same SNES with a second, direct KSP
(MUMPS LU, or the direct solve this PETSc has: :func:`~gpfem.fe.solver_defaults.direct_options`). The
states:

* **Krylov** (the start): every solve runs the Krylov KSP; a solve it converges resets the failure count.
* **retry**: a solve the Krylov KSP broke is redone with the direct KSP (options prefix
  ``<prefix>fallback_``, created on first use). A retry that converges counts one failure and the next
  solve is Krylov again; a retry that fails too says the step, not the linear solver, was the problem (the
  stepper cuts it): nothing is counted and the solve's error names the retry.
* **direct** (for good): after :data:`KRYLOV_FAILURES_TO_DIRECT` counted failures in a row the Krylov KSP
  is destroyed, the solver's options name the direct solve, and no more backups are taken.

The interface is :meth:`DirectFallback.solve` (one solve with the retry), :attr:`~DirectFallback.note`
(what the last solve's error should add), :meth:`DirectFallback.close` (collective).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from petsc4py import PETSc

from gpfem.base.log import get_logger
from gpfem.fe.petsc_reasons import ksp_reason_name
from gpfem.fe.solver_defaults import direct_options
from gpfem.fe.solver_options import FALLBACK

__all__ = ["KRYLOV_FAILURES_TO_DIRECT", "DirectFallback"]

#: Solves in a row that the size-based Krylov default failed and MUMPS solved; then a solver keeps MUMPS.
KRYLOV_FAILURES_TO_DIRECT = 3

log = get_logger("solver")


class DirectFallback:
    """The Krylov -> retry -> direct states of one solver (see the module docstring).

    Args:
        prefix: The solver's options prefix.
        krylov: The size-based Krylov options in effect (``{}``: no Krylov default, :meth:`solve` only
            runs the solve).

    Attributes:
        krylov: The Krylov options still in effect (``{}`` once the direct solve is kept).
        prefix: Options prefix of the direct KSP, ``<prefix>fallback_`` (``None`` without a Krylov default).
        failures: Counted Krylov failures in a row.
        kept: Whether the direct solve was kept for good.
        note: What the last solve's error should add (the failed retry), or ``""``.
        direct_ksp: The direct KSP (created by the first retry).
        krylov_ksp: The Krylov KSP while a direct one exists and the Krylov one is not given up.
    """

    def __init__(self, prefix: str, krylov: Mapping[str, Any]):
        self.solver_prefix = prefix
        self.krylov: dict[str, Any] = dict(krylov)
        self.prefix: str | None = f"{prefix}{FALLBACK}" if self.krylov else None
        self.failures = 0
        self.kept = False
        self.note = ""
        self.direct_ksp: Any = None
        self.krylov_ksp: Any = None

    def solve(self, snes: Any, run: Callable[[], int], unknowns: Sequence[Any], options: dict[str, Any],
              comm: Any) -> tuple[int, int]:
        """One solve, redone with the direct KSP if the Krylov one broke it; the SNES and KSP reasons.

        Args:
            snes: The solver's SNES.
            run: Runs the SNES solve once and returns its converged reason.
            unknowns: The unknown functions (restored from a backup before a retry).
            options: The solver's options (updated when the direct solve is kept).
            comm: The solver's communicator.
        """
        backup = [f.x.array.copy() for f in unknowns] if self.krylov else None
        self.note = ""
        reason = run()
        ksp_reason = snes.getKSP().getConvergedReason()
        if backup is not None:
            if reason == PETSc.SNES.ConvergedReason.DIVERGED_LINEAR_SOLVE:
                reason, ksp_reason = self._retry(snes, run, unknowns, backup, options, comm)
            else:
                self.failures = 0
        return reason, ksp_reason

    def _direct(self, snes: Any, direct: Mapping[str, Any]) -> Any:
        """The direct KSP (options prefix :attr:`prefix`), created once."""
        if self.direct_ksp is None:
            self.krylov_ksp = snes.getKSP()
            d = PETSc.KSP().create(snes.getComm())
            d.setOptionsPrefix(self.prefix)
            # Through the options database (pc redundant's inner solver has no other way in); options the
            # user gave with the fallback prefix win. Ours are removed again after use (no 'unused option'
            # warning at exit), but pc redundant's, which its PCSetUp reads.
            db = PETSc.Options()
            pre = self.prefix
            ours = [f"{pre}{k}" for k in direct if not db.hasName(f"{pre}{k}")]
            for k, v in direct.items():
                if f"{pre}{k}" in ours:
                    db.setValue(f"{pre}{k}", v)
            d.setFromOptions()
            for key in ours:
                if not key.startswith(f"{self.prefix}redundant_"):
                    db.delValue(key)
            self.direct_ksp = d
        return self.direct_ksp

    def _retry(self, snes: Any, run: Callable[[], int], unknowns: Sequence[Any], backup: list[Any],
               options: dict[str, Any], comm: Any) -> tuple[int, int]:
        """Redo the solve from ``backup`` with the direct KSP; its SNES and KSP reasons.

        SNES hands the direct KSP its Jacobian at every Newton iteration.
        """
        for f, a in zip(unknowns, backup, strict=True):
            f.x.array[:] = a
        ksp = snes.getKSP()
        krylov = f"{ksp.getType()}+{ksp.getPC().getType()}"
        why = ksp_reason_name(ksp.getConvergedReason())
        direct, what = direct_options(comm.size)  # MUMPS, or what this PETSc has instead
        snes.setKSP(self._direct(snes, direct))
        keep = False
        try:
            reason = run()
            ksp_reason = self.direct_ksp.getConvergedReason()
            if reason > 0:
                self.failures += 1
                keep = self.failures >= KRYLOV_FAILURES_TO_DIRECT
        finally:
            if not keep:
                snes.setKSP(self.krylov_ksp)
        if keep:
            self.krylov_ksp.destroy()
            self.krylov_ksp = None
            for k in self.krylov:
                options.pop(k, None)
            options.update(direct)
            self.krylov = {}
            self.kept = True
            log.warning(f"{self.solver_prefix}: {krylov} failed ({why}) in {self.failures} solves in a row "
                        f"that {what} then solved: {what} from now on")
        elif reason > 0:
            log.info(f"{self.solver_prefix}: {krylov} failed ({why}); the solve redone with {what} converged")
        else:
            self.note = f"redone with {what} after {krylov} failed ({why})"
        return reason, ksp_reason

    def close(self) -> None:
        """Destroy the KSPs this object holds (collective)."""
        for ksp in (self.direct_ksp, self.krylov_ksp):
            if ksp is not None:
                ksp.destroy()
        self.direct_ksp = self.krylov_ksp = None
