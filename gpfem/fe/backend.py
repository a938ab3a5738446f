"""PETSc backends: which GPU-capable vector/matrix types this PETSc has, and the options to use them.

The PyPI PETSc inside ``dolfinx-solver-real`` has no GPU backend; a CUDA build comes from
``scripts/build_gpu_petsc.sh`` (active in ``.venv-gpu``, docs/gpu.md), a CUDA + Kokkos one from the recipes
in ``containers/``. Asking for a backend this PETSc lacks, or for ``cuda`` on a machine without a usable
device, stops the run before any work with one line that says why.

How a backend reaches every solver: the CLI (``--backend`` or the config key ``backend``) calls
:func:`set_active_backend`; every :class:`~gpfem.fe.solver.NonlinearSolver` built afterwards asks
:func:`backend_types` for its prefix. DOLFINx creates the Jacobian itself, so the matrix type goes in as
``NonlinearProblem(kind=MAT_TYPE)`` (DOLFINx calls ``MatSetType`` before preallocation). DOLFINx ignores
``kind`` for the residual and solution vectors of a single space, so :func:`retype_problem_vectors` swaps
them for ghosted vectors of the backend's MPI vector type (``VecMPISetGhost``) and re-registers the SNES
residual. Assembly stays on the host; PETSc moves data to the device for the Krylov solve. A prefix's own
``-PREFIX_A_mat_type`` / ``-PREFIX_b_vec_type`` options win over the backend.
"""

from __future__ import annotations

from typing import Any

from gpfem.base.errors import BackendError

__all__ = [
    "BACKENDS",
    "GHOSTED_VEC_TYPES",
    "active_backend",
    "available_backends",
    "backend_options",
    "backend_types",
    "check_backend",
    "external_packages",
    "ghosted_vector",
    "retype_problem_vectors",
    "set_active_backend",
]

#: Backend -> (PETSc external package that provides it, global options selecting its types).
BACKENDS: dict[str, tuple[str | None, dict[str, str]]] = {
    "cpu": (None, {}),
    "cuda": ("cuda", {"vec_type": "cuda", "mat_type": "aijcusparse"}),
    "kokkos": ("kokkos", {"vec_type": "kokkos", "mat_type": "aijkokkos"}),
}

#: The MPI (ghost-capable) vector type behind each ``vec_type``.
GHOSTED_VEC_TYPES: dict[str, str] = {
    "cuda": "mpicuda", "kokkos": "mpikokkos", "hip": "mpihip", "standard": "mpi", "mpi": "mpi",
}

_active = "cpu"

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
    """Raise :class:`BackendError` unless ``name`` is usable here (collective for ``cuda``).

    ``cuda`` also needs a usable device: the driver is asked on every rank
    (:func:`~gpfem.fe.petsc_build.cuda_device_status`) before any work, so a machine without one stops
    with one line instead of a PETSc error deep in the first solve.

    Raises:
        BackendError: Unknown backend, one this PETSc was not built with, or no usable CUDA device.
    """
    if name not in BACKENDS:
        raise BackendError(f"unknown backend '{name}'; one of {', '.join(BACKENDS)}")
    if not available_backends()[name]:
        from petsc4py import PETSc

        from gpfem.fe.petsc_build import loaded_library

        v = ".".join(map(str, PETSc.Sys.getVersion()))
        raise BackendError(
            f"backend '{name}' needs a PETSc configured with {BACKENDS[name][0]}, but the loaded PETSc "
            f"{v} ({loaded_library() or 'libpetsc'}) has none; for cuda build one with "
            "scripts/build_gpu_petsc.sh and run .venv-gpu/bin/gpfem (docs/gpu.md), or use the GPU image "
            "of containers/gpu.Dockerfile (containers/gpfem-gpu.def for Apptainer)"
        )
    if name == "cuda":
        from mpi4py import MPI

        from gpfem.fe.petsc_build import cuda_device_status

        status = cuda_device_status()
        if not MPI.COMM_WORLD.allreduce(bool(status["usable"]), op=MPI.LAND):
            reason = status.get("reason", "another MPI rank has no usable CUDA device")
            raise BackendError(
                f"backend 'cuda': this PETSc has CUDA but no CUDA device is usable here ({reason}); "
                "run on a GPU machine or use --backend cpu"
            )


def backend_options(name: str, prefixes: list[str] | None = None) -> dict[str, Any]:
    """PETSc options selecting ``name``'s vector/matrix types (global, or for each solver prefix).

    With prefixes, the keys name the objects DOLFINx creates for each solver: the Jacobian
    ``PREFIX_A_mat_type`` and the residual/solution vectors ``PREFIX_b_vec_type``/``PREFIX_x_vec_type``.
    """
    opts = BACKENDS[name][1]
    if not prefixes:
        return dict(opts)
    out: dict[str, Any] = {}
    for pre in prefixes:
        if "mat_type" in opts:
            out[f"{pre}A_mat_type"] = opts["mat_type"]
        if "vec_type" in opts:
            out[f"{pre}b_vec_type"] = opts["vec_type"]
            out[f"{pre}x_vec_type"] = opts["vec_type"]
    return out


def set_active_backend(name: str) -> None:
    """Check ``name`` and make it the backend of every solver built from now on.

    Raises:
        BackendError: As :func:`check_backend`.
    """
    global _active
    check_backend(name)
    _active = name


def active_backend() -> str:
    """The backend new solvers use (``cpu`` unless :func:`set_active_backend` said otherwise)."""
    return _active


def backend_types(prefix: str, name: str | None = None) -> tuple[str | None, str | None]:
    """``(vec_type, mat_type)`` for a solver prefix: its own PETSc options, else the backend's.

    ``None`` means DOLFINx's default (ghosted ``mpi`` vectors, ``aij`` matrices).
    """
    from petsc4py import PETSc

    opts = BACKENDS[name or _active][1]
    db = PETSc.Options()

    def get(key: str, default: str | None) -> str | None:
        return db.getString(key) if db.hasName(key) else default

    return get(f"{prefix}b_vec_type", opts.get("vec_type")), get(f"{prefix}A_mat_type", opts.get("mat_type"))


def ghosted_vector(index_map: Any, bs: int, vec_type: str) -> Any:
    """A ghosted PETSc vector with DOLFINx's layout (owned, then ghosts) of an MPI ``vec_type``."""
    import numpy as np
    from petsc4py import PETSc

    ghosts = index_map.ghosts.astype(PETSc.IntType)
    if bs > 1:  # VecMPISetGhost takes entry (not block) indices
        ghosts = (ghosts[:, None] * bs + np.arange(bs, dtype=PETSc.IntType)).ravel()
    v = PETSc.Vec().create(comm=index_map.comm)
    v.setType(GHOSTED_VEC_TYPES.get(vec_type, vec_type))
    v.setSizes((index_map.size_local * bs, index_map.size_global * bs), bsize=bs)
    v.setMPIGhost(ghosts.astype(PETSc.IntType))
    return v


def retype_problem_vectors(problem: Any, index_map: Any, bs: int, vec_type: str) -> None:
    """Give a DOLFINx ``NonlinearProblem`` residual/solution vectors of ``vec_type`` (same layout)."""
    snes = problem.solver
    old_b, old_x = problem.b, problem.x
    new_b, new_x = (ghosted_vector(index_map, bs, vec_type) for _ in range(2))
    new_b.setOptionsPrefix(old_b.getOptionsPrefix())
    new_x.setOptionsPrefix(old_x.getOptionsPrefix())
    _, (func, args, kargs) = snes.getFunction()
    problem._b, problem._x = new_b, new_x
    snes.setFunction(func, new_b, args=args, kargs=kargs)
    old_b.destroy()
    old_x.destroy()
