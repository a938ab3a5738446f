"""Size-dependent linear-solver defaults, from measurements (``benchmarks/solver_choice.py``).

Below a prefix's threshold (global DOFs) the solver layer's default is MUMPS LU; above it, the measured
faster Krylov choice, with MUMPS as the fallback: a Newton solve that the Krylov method breaks
(``DIVERGED_LINEAR_SOLVE``) is redone with MUMPS, and after three such solves in a row the solver keeps
MUMPS (:meth:`gpfem.core.solver.NonlinearSolver.solve`). A ``ksp_type``/``pc_type`` given by the model or
on the command line always wins.

Measured on a shared 2-core AMD EPYC, 1 rank (``solver_choice.py`` output, wall s of the whole command):
Cahn-Hilliard GMRES + block-Jacobi ILU beat MUMPS from 8,450 DOFs at dt = 0.5 and from 33,282 DOFs at
dt = 2 (132,098 DOFs: 6.0 s vs 9.0 s); GAMG never converged on the mixed (c, mu) system. Fracture CG + GAMG
won pre-peak only at 46,944 DOFs and broke down through the crack (DIVERGED_INDEFINITE_PC), and
martensite MUMPS won from 66,564 DOFs on: both keep MUMPS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["DIRECT", "SIZE_DEFAULTS", "size_default"]

#: The direct fallback.
DIRECT: dict[str, Any] = {"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"}

#: prefix -> (global DOFs from which the options apply, options).
SIZE_DEFAULTS: dict[str, tuple[int, dict[str, Any]]] = {
    "gpfem_ch_": (2_000, {"ksp_type": "gmres", "pc_type": "asm", "pc_asm_overlap": 1, "sub_pc_type": "ilu",
                          "sub_pc_factor_levels": 1, "ksp_rtol": 1e-8, "ksp_max_it": 500}),
}


def size_default(prefix: str, ndofs: int, given: Mapping[str, Any]) -> dict[str, Any]:
    """The Krylov options for ``prefix`` at ``ndofs`` global DOFs, or ``{}`` (keep the direct default).

    Args:
        prefix: The solver's options prefix.
        ndofs: Global number of unknowns.
        given: Options the model passed; a ``ksp_type``/``pc_type`` there (or on the command line with
            the prefix) means the user chose, and nothing changes.
    """
    from petsc4py import PETSc

    if prefix not in SIZE_DEFAULTS or ndofs < SIZE_DEFAULTS[prefix][0]:
        return {}
    db = PETSc.Options()
    if any(k in given or db.hasName(f"{prefix}{k}") for k in ("ksp_type", "pc_type")):
        return {}
    return dict(SIZE_DEFAULTS[prefix][1])
