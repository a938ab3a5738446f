"""Typed errors of gpfem.

Every error a user can cause by input derives from :class:`GpfemError`; the CLI prints its message on
one line and exits non-zero, without a traceback.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "ConvergenceError",
    "GpfemError",
    "MeshError",
    "OutputError",
    "ParameterError",
    "RunFolderBusy",
]


class GpfemError(Exception):
    """Base class of all errors gpfem raises on purpose."""


class ParameterError(GpfemError, ValueError):
    """A parameter is unknown, of the wrong type or out of range.

    Args:
        name: The parameter's name (as the user spells it).
        message: What is wrong with it.
    """

    def __init__(self, name: str, message: str):
        self.name = name
        super().__init__(f"parameter '{name}': {message}")


class MeshError(GpfemError):
    """A mesh file is missing, unreadable, or lacks a needed physical group."""


class OutputError(GpfemError):
    """A file of the run could not be written (or read back): disk full, no permission, damaged file.

    An environment fault, not bad input: the command line exits with code 1 and the one line
    ``cannot <action> <path>: <reason>``.

    Args:
        path: The file or folder.
        reason: The operating system's reason (``No space left on device``) or what is wrong with the file.
        action: ``write``, ``read``, ``create`` ...
    """

    def __init__(self, path: object, reason: str, action: str = "write"):
        self.path = str(path)
        self.reason = reason
        self.action = action
        super().__init__(f"cannot {action} {path}: {reason}")


class RunFolderBusy(OutputError):
    """Another live gpfem process holds the run folder's lock (``.gpfem.lock``)."""


class BackendError(GpfemError):
    """A requested PETSc backend (e.g. CUDA, Kokkos) is not in this PETSc build."""


class ConvergenceError(GpfemError, RuntimeError):
    """A nonlinear (or alternate-minimisation) solve did not converge.

    Args:
        prefix: The options prefix of the sub-problem that failed.
        snes_reason: PETSc's SNES converged reason (negative means diverged).
        ksp_reason: PETSc's KSP converged reason of the last linear solve.
        iterations: Iterations done before giving up.
        detail: Extra text.
    """

    def __init__(
        self,
        prefix: str,
        snes_reason: int | str | None = None,
        ksp_reason: int | str | None = None,
        iterations: int | None = None,
        detail: str = "",
    ):
        self.prefix = prefix
        self.snes_reason = snes_reason
        self.ksp_reason = ksp_reason
        self.iterations = iterations
        parts = [f"solve '{prefix}' did not converge"]
        if snes_reason is not None:
            parts.append(f"SNES reason {snes_reason}")
        if ksp_reason is not None:
            parts.append(f"KSP reason {ksp_reason}")
        if iterations is not None:
            parts.append(f"after {iterations} iterations")
        if detail:
            parts.append(detail)
        super().__init__(", ".join(parts))
