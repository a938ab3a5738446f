"""PETSc backends: which GPU-capable vector/matrix types this PETSc has, and the options to use them.

The PyPI PETSc inside ``dolfinx-solver-real`` has no GPU backend; a CUDA or Kokkos build comes from the
recipes in ``containers/``. Asking for a backend this PETSc lacks stops the run before any work, with a
message that says where to get one.
"""

from __future__ import annotations

from typing import Any

from gpfem.core.errors import BackendError

__all__ = ["BACKENDS", "available_backends", "backend_options", "check_backend", "external_packages"]

#: Backend -> (PETSc external package that provides it, global options selecting its types).
BACKENDS: dict[str, tuple[str | None, dict[str, str]]] = {
    "cpu": (None, {}),
    "cuda": ("cuda", {"vec_type": "cuda", "mat_type": "aijcusparse"}),
    "kokkos": ("kokkos", {"vec_type": "kokkos", "mat_type": "aijkokkos"}),
}

_PACKAGES = ("mumps", "superlu_dist", "hypre", "hdf5", "ptscotch", "metis", "parmetis", "scalapack",
             "cuda", "hip", "kokkos", "kokkos-kernels", "sycl")


def external_packages() -> dict[str, bool]:
    """Which common external packages this PETSc was configured with."""
    from petsc4py import PETSc

    return {p: bool(PETSc.Sys.hasExternalPackage(p)) for p in _PACKAGES}


def available_backends() -> dict[str, bool]:
    """Backend name -> usable with this PETSc."""
    pk = external_packages()
    return {name: (need is None or pk.get(need, False)) for name, (need, _) in BACKENDS.items()}


def check_backend(name: str) -> None:
    """Raise :class:`BackendError` unless ``name`` is usable here.

    Raises:
        BackendError: Unknown backend, or one this PETSc was not built with.
    """
    if name not in BACKENDS:
        raise BackendError(f"unknown backend '{name}'; one of {', '.join(BACKENDS)}")
    if not available_backends()[name]:
        from petsc4py import PETSc

        v = ".".join(map(str, PETSc.Sys.getVersion()))
        raise BackendError(
            f"backend '{name}' needs a PETSc configured with {BACKENDS[name][0]}, but this PETSc "
            f"{v} (from the dolfinx-solver-real wheel) has none; use the GPU image built by "
            "containers/gpu.Dockerfile (or containers/gpfem-gpu.def for Apptainer)"
        )


def backend_options(name: str, prefixes: list[str] | None = None) -> dict[str, Any]:
    """PETSc options selecting ``name``'s vector/matrix types (global, or for each prefix)."""
    opts = BACKENDS[name][1]
    if not prefixes:
        return dict(opts)
    return {f"{pre}{k}": v for pre in prefixes for k, v in opts.items()}
