"""PETSc's names of SNES and KSP converged reasons, for errors and log lines."""

from __future__ import annotations

from typing import Any

from petsc4py import PETSc

from gpfem.base.interrupt import DIVERGED_USER

__all__ = ["ksp_reason_name", "snes_reason_name"]


def _reason_names(enum_cls: Any) -> dict[int, str]:
    return {v: k for k, v in vars(enum_cls).items() if isinstance(v, int) and not k.startswith("_")}


_SNES_REASONS = _reason_names(PETSc.SNES.ConvergedReason)
_SNES_REASONS.setdefault(DIVERGED_USER, "DIVERGED_USER")
_KSP_REASONS = _reason_names(PETSc.KSP.ConvergedReason)


def snes_reason_name(reason: int) -> str:
    """PETSc's name of a SNES converged reason, e.g. ``DIVERGED_MAX_IT``."""
    return f"{_SNES_REASONS.get(reason, 'UNKNOWN')} ({reason})"


def ksp_reason_name(reason: int) -> str:
    """PETSc's name of a KSP converged reason, e.g. ``DIVERGED_ITS``."""
    return f"{_KSP_REASONS.get(reason, 'UNKNOWN')} ({reason})"
