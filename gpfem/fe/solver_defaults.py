"""Size-dependent linear-solver defaults, from measurements (``benchmarks/solver_choice.py``).

Below a prefix's threshold (global DOFs) the solver layer's default is MUMPS LU; above it, the measured
faster Krylov choice, with MUMPS as the fallback: a Newton solve that the Krylov method breaks
(``DIVERGED_LINEAR_SOLVE``) is redone with MUMPS, and after three such solves in a row the solver keeps
MUMPS (:meth:`gpfem.fe.solver.NonlinearSolver.solve`). A ``ksp_type``/``pc_type`` given by the model or
on the command line always wins.

Measured on a shared 2-core AMD EPYC, 1 rank (``solver_choice.py`` output, wall s of the whole command):
Cahn-Hilliard GMRES + block-Jacobi ILU beat MUMPS from 8,450 DOFs at dt = 0.5 and from 33,282 DOFs at
dt = 2 (132,098 DOFs: 6.0 s vs 9.0 s); on the blocked P1^2 space (BAIJ Jacobian) GMRES + ASM(overlap 1)
with ILU(1) blocks beat MUMPS in CPU time at 2,178-33,282 DOFs at dt 0.5 and 2, hence the 2,000-DOF
threshold; GAMG never converged on the mixed (c, mu) system. Fracture's displacement: plain CG + GAMG
broke down through the crack (DIVERGED_INDEFINITE_PC); with the rigid-body modes as near-nullspace
(:mod:`gpfem.fe.nullspace`) it converges through the crack in 12-20 iterations, and
``benchmarks/fracture_3d.py`` measured (CPU s per solve of rank 0, MUMPS vs GAMG): 2D 0.32 vs 0.37 at 71k
and 1.55 vs 1.77 at 270k DOFs (MUMPS stays in 2D); 3D 0.76 vs 0.79 at 36k, 5.4 vs 3.3 at 107k (1 rank),
11.3 vs 3.2 at 203k (2 ranks), with 2.4-3.8x less memory: GAMG from 40,000 DOFs in 3D
(:data:`DISPLACEMENT_KRYLOV_FROM`). Martensite MUMPS won from 66,564 DOFs on: it keeps MUMPS.

A PETSc without MUMPS (the CUDA build of ``scripts/build_gpu_petsc.sh``: MUMPS's source is not on the
package index) gets :func:`direct_options` instead: SuperLU_dist if present, else PETSc's own LU on one rank
and, on several ranks, ``PCREDUNDANT`` (the whole matrix gathered and factorised by PETSc's LU on every
rank: still a direct solve, for the small and medium sizes where the direct default applies).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["DIRECT", "DISPLACEMENT_KRYLOV_FROM", "SIZE_DEFAULTS", "direct_options", "has_package",
           "size_default"]

#: The direct fallback.
DIRECT: dict[str, Any] = {"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"}

#: Direct solves without MUMPS, by what this PETSc has (see :func:`direct_options`).
_SUPERLU_DIST: dict[str, Any] = {"ksp_type": "preonly", "pc_type": "lu",
                                 "pc_factor_mat_solver_type": "superlu_dist"}
_PETSC_LU: dict[str, Any] = {"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "petsc"}
_REDUNDANT_LU: dict[str, Any] = {"ksp_type": "preonly", "pc_type": "redundant", "redundant_pc_type": "lu",
                                 "redundant_pc_factor_mat_solver_type": "petsc"}

#: Global DOFs of fracture's displacement from which CG + GAMG (with the rigid-body modes) is the default,
#: by mesh dimension (measured, see above; the model passes its own as ``krylov_from``).
DISPLACEMENT_KRYLOV_FROM = {2: 2**62, 3: 40_000}

#: prefix -> (global DOFs from which the options apply, options).
SIZE_DEFAULTS: dict[str, tuple[int, dict[str, Any]]] = {
    "gpfem_ch_": (2_000, {"ksp_type": "gmres", "pc_type": "asm", "pc_asm_overlap": 1, "sub_pc_type": "ilu",
                          "sub_pc_factor_levels": 1, "ksp_rtol": 1e-8, "ksp_max_it": 500}),
    # fracture's displacement: CG + GAMG; the rigid-body near-nullspace comes from the model
    "gpfem_displacement_": (min(DISPLACEMENT_KRYLOV_FROM.values()),
                            {"ksp_type": "cg", "pc_type": "gamg", "ksp_rtol": 1e-8, "ksp_max_it": 1000}),
}


def size_default(prefix: str, ndofs: int, given: Mapping[str, Any],
                 threshold: int | None = None) -> dict[str, Any]:
    """The Krylov options for ``prefix`` at ``ndofs`` global DOFs, or ``{}`` (keep the direct default).

    Args:
        prefix: The solver's options prefix.
        ndofs: Global number of unknowns.
        given: Options the model passed; a ``ksp_type``/``pc_type`` there (or on the command line with
            the prefix) means the user chose, and nothing changes.
        threshold: Global DOFs from which the Krylov options apply, instead of the prefix's measured one.
    """
    from petsc4py import PETSc

    if prefix not in SIZE_DEFAULTS:
        return {}
    if ndofs < (SIZE_DEFAULTS[prefix][0] if threshold is None else threshold):
        return {}
    db = PETSc.Options()
    if any(k in given or db.hasName(f"{prefix}{k}") for k in ("ksp_type", "pc_type")):
        return {}
    return dict(SIZE_DEFAULTS[prefix][1])


def has_package(name: str) -> bool:
    """Whether the loaded PETSc was configured with external package ``name`` (e.g. ``mumps``)."""
    from petsc4py import PETSc

    return bool(PETSc.Sys.hasExternalPackage(name))


def direct_options(nranks: int) -> tuple[dict[str, Any], str]:
    """The direct solve this PETSc can do on ``nranks`` ranks, and a phrase naming it.

    MUMPS when present (:data:`DIRECT`), else SuperLU_dist, else PETSc's LU (1 rank) or PETSc's LU on the
    gathered matrix (``pc_type redundant``, several ranks).
    """
    if has_package("mumps"):
        return dict(DIRECT), "MUMPS LU"
    if has_package("superlu_dist"):
        return dict(_SUPERLU_DIST), "SuperLU_dist LU"
    if nranks == 1:
        return dict(_PETSC_LU), "PETSc's LU"
    return dict(_REDUNDANT_LU), f"PETSc's LU of the matrix gathered on each of {nranks} ranks (pc redundant)"
