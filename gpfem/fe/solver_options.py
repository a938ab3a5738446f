"""The PETSc options of a solver, layered, and the registry of the options prefixes in use.

Layers, the later winning: :data:`DEFAULT_OPTIONS` (Newton with backtracking, MUMPS LU; ``L D L^T`` for a
symmetric Jacobian) < the variational inequality's SNES (with bounds) < the size-based Krylov default
(:mod:`gpfem.fe.solver_defaults`) < the model's ``options`` (a preset's or config's ``petsc`` table) < the
command line (``-PREFIX_opt``: an option set there is dropped from ours, so PETSc reads the user's).
Defaults that do not apply to what is chosen are dropped (PETSc would warn at exit about unused options); a
MUMPS default that the loaded PETSc cannot do becomes the direct solve it has
(:func:`~gpfem.fe.solver_defaults.direct_options`).

Every solver claims a unique prefix (and its direct retry's, ``<prefix>fallback_``) while it lives
(:func:`claim_prefix`, :func:`release_prefix`), so no two solvers read each other's options.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from petsc4py import PETSc

from gpfem.base.errors import GpfemError
from gpfem.fe import solver_defaults

__all__ = [
    "DEFAULT_OPTIONS",
    "FALLBACK",
    "LIVE_PREFIXES",
    "claim_prefix",
    "check_prefix",
    "clear_options",
    "layered_options",
    "release_prefix",
]

#: Newton with backtracking and a direct (MUMPS) linear solve: robust defaults for small and medium runs.
#: Without MUMPS in the loaded PETSc the direct solve is :func:`~gpfem.fe.solver_defaults.direct_options`.
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

#: Suffix of the options prefix of the direct retry's KSP: ``-gpfem_ch_fallback_pc_factor_...`` reach it.
FALLBACK = "fallback_"

#: Prefix -> the live solver that holds it.
LIVE_PREFIXES: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()

_told: set[str] = set()

#: ``pc_factor_mat_solver_type`` values -> the external package PETSc needs for them.
_SOLVER_PACKAGES = {"mumps": "mumps", "superlu_dist": "superlu_dist", "superlu": "superlu",
                    "umfpack": "suitesparse", "cholmod": "suitesparse", "klu": "suitesparse",
                    "mkl_pardiso": "mkl_pardiso", "mkl_cpardiso": "mkl_cpardiso", "strumpack": "strumpack",
                    "pastix": "pastix", "cusparse": "cuda"}


def check_prefix(prefix: str) -> str:
    """The prefix with a trailing ``_``, after checking that it is not empty and not in use.

    Raises:
        GpfemError: On an empty or duplicate prefix.
    """
    if not prefix or not prefix.strip("_"):
        raise GpfemError("every solver needs a non-empty options prefix, e.g. 'gpfem_ch_'")
    if not prefix.endswith("_"):
        prefix += "_"
    if prefix in LIVE_PREFIXES:
        raise GpfemError(f"options prefix '{prefix}' is already used by another live solver")
    return prefix


def claim_prefix(prefix: str, owner: Any) -> None:
    """Record ``prefix`` as held by ``owner`` (until :func:`release_prefix` or ``owner`` is collected)."""
    LIVE_PREFIXES[prefix] = owner


def release_prefix(prefix: str | None, owner: Any) -> None:
    """Free ``prefix`` if ``owner`` holds it."""
    if prefix is not None and LIVE_PREFIXES.get(prefix) is owner:
        del LIVE_PREFIXES[prefix]


def _available_direct(prefix: str, opts: dict[str, Any], comm: Any) -> dict[str, Any]:
    """Replace a MUMPS default that this PETSc cannot do by what it can (one log line per prefix).

    A factor package named on the command line that this PETSc lacks is refused here, before any solve.
    """
    db = PETSc.Options()
    key = f"{prefix}pc_factor_mat_solver_type"
    if db.hasName(key):
        want = db.getString(key)
        need = _SOLVER_PACKAGES.get(want)
        if need is not None and not solver_defaults.has_package(need):
            raise GpfemError(f"option -{key} {want}: this PETSc has no {need} "
                             f"(gpfem info lists its packages)")
        return opts
    if opts.get("pc_factor_mat_solver_type") != "mumps" or solver_defaults.has_package("mumps"):
        return opts
    if db.hasName(f"{prefix}pc_type") or db.hasName(f"{prefix}ksp_type"):  # the user chose the solver
        return {k: v for k, v in opts.items() if k != "pc_factor_mat_solver_type"}
    direct, what = solver_defaults.direct_options(comm.size)
    out = {k: v for k, v in opts.items() if not k.startswith("pc_factor_mat_solver_type")}
    out.update(direct)
    if prefix not in _told and comm.rank == 0:
        print(f"gpfem: this PETSc has no MUMPS; {prefix} solves with {what}", flush=True)
    _told.add(prefix)
    return out


def layered_options(prefix: str, options: Mapping[str, Any] | None, bounded: bool,
                    auto_krylov: Mapping[str, Any], comm: Any, symmetric: bool = False) -> dict[str, Any]:
    """The options a solver passes to PETSc (without the prefix), layered as the module says.

    Args:
        prefix: The solver's options prefix (with its trailing ``_``).
        options: The model's options (override the defaults; the command line overrides them).
        bounded: Whether the problem has variable bounds (``vinewtonrsls``, basic line search).
        auto_krylov: The size-based Krylov default (:func:`~gpfem.fe.solver_defaults.size_default`), or
            ``{}``.
        comm: The solver's communicator.
        symmetric: Whether the Jacobian is symmetric (the Hessian of an energy, boundary conditions applied
            symmetrically): the MUMPS default factorises it as ``L D L^T`` (``pc_type cholesky``); on
            fracture's displacement (7,950 DOFs, 1 rank, ``benchmarks/displacement_factor.py``, medians of
            20 beside LU): 7.3 instead of 10.2 ms per factorisation, 1.11 instead of 1.45 ms per solve.
    """
    opts = dict(DEFAULT_OPTIONS)
    if symmetric:
        opts["pc_type"] = "cholesky"
    if bounded:
        opts["snes_type"] = "vinewtonrsls"
        opts["snes_linesearch_type"] = "basic"
    if auto_krylov:
        opts.pop("pc_factor_mat_solver_type", None)
        opts.update(auto_krylov)
    opts.update(options or {})
    # Defaults that do not apply to what the model chose would be left unused (PETSc warns at exit).
    if opts.get("snes_type") == "ksponly":
        opts.pop("snes_linesearch_type", None)
    db = PETSc.Options()
    pc_type = db.getString(f"{prefix}pc_type") if db.hasName(f"{prefix}pc_type") else opts.get("pc_type")
    if pc_type not in ("lu", "cholesky", "ilu", "icc", "redundant"):  # the one in effect
        opts.pop("pc_factor_mat_solver_type", None)
    opts = _available_direct(prefix, opts, comm)
    # Command-line options with this prefix win over everything: drop ours where the user set one.
    return {k: v for k, v in opts.items() if not db.hasName(f"{prefix}{k}")}


def clear_options(prefix: str, keys: Iterable[str]) -> None:
    """Remove ``prefix + key`` from PETSc's global options database, for each of ``keys`` that is there.

    Our options stay in the database after DOLFINx's set-up (measured with DOLFINx 0.11 / petsc4py 3.25:
    its clean-up leaves them); a later solver with this prefix (a model rebuilt on an adapted mesh) would
    take them for the user's and lose the size-based default and its MUMPS fallback. Options the user set
    were never among ours.
    """
    db = PETSc.Options()
    for k in keys:
        if db.hasName(f"{prefix}{k}"):
            db.delValue(f"{prefix}{k}")
