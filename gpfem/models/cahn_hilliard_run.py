"""Cahn-Hilliard's part of a run (:class:`~gpfem.app.runner.RunHooks`): mesh, model, the summary's values."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpfem.app.runner import Run, RunHooks, loop_values, pictures, run_model
from gpfem.mesh import MeshBundle, rectangle, sphere_surface, t_shape
from gpfem.models.cahn_hilliard import COLUMNS, CahnHilliard
from gpfem.models.cahn_hilliard_post import post
from gpfem.models.cahn_hilliard_spec import CahnHilliardParameters

if TYPE_CHECKING:
    from mpi4py import MPI

    from gpfem.app.registry import RunContext
    from gpfem.models.cahn_hilliard_amr import CahnHilliardAMR

__all__ = ["AMR_COLUMNS", "HOOKS", "build_mesh", "run"]

#: History columns an adaptive run adds.
AMR_COLUMNS = ["dofs", "adapts", "adapt_energy_change"]


def build_mesh(p: Mapping[str, Any], comm: MPI.Comm | None) -> MeshBundle:
    """The built-in domain named by ``geometry``."""
    if p["geometry"] == "tshape":
        return t_shape(h=p["h"], comm=comm)
    if p["geometry"] == "sphere":
        return sphere_surface(p["radius"], p["h"], comm=comm)
    return rectangle(p["Lx"], p["Ly"], p["nx"], p["ny"], comm=comm)


def _adapt(run: Run, checkpoint: Path | None) -> CahnHilliardAMR:
    from gpfem.models.cahn_hilliard_amr import start

    return start(run.params, run.base, checkpoint)


def _describe(run: Run) -> str:
    if run.adaptive:
        ndofs, per = 2 * run.mesh.mesh.geometry.index_map().size_global, ""
    else:
        ch = run.model
        ndofs, per = ch.W.dofmap.index_map.size_global * ch.W.dofmap.index_map_bs, ""
        if ch.periodic is not None:
            per = (f", periodic in {','.join('xyz'[a] for a in ch.periodic.axes)} "
                   f"({ch.solver.problem.size_global} unknowns)")
    run.start["dofs"] = ndofs
    return f"{ndofs} DOFs{per}"


def _summary(run: Run) -> dict[str, Any]:
    ndofs = run.start["dofs"]
    return {
        "dofs": ndofs, "dofs_start": ndofs, "dofs_end": ndofs, "dofs_max": ndofs,
        "cells": run.mesh.num_cells_global(), "mesh": run.base.source, **loop_values(run),
        "initial_free_energy": run.initial["free_energy"], "final_free_energy": run.final["free_energy"],
        "initial_mass": run.initial["mass"], "final_mass": run.final["mass"],
    }


#: Cahn-Hilliard's hooks (``SPEC.hooks``).
HOOKS = RunHooks(
    name="cahn-hilliard",
    mesh=lambda p, ctx: ctx.mesh(lambda: build_mesh(p, ctx.comm)),
    build=lambda run: CahnHilliard(run.base, run.params),
    adapt=_adapt,
    describe=_describe,
    summary=_summary,
    finish=lambda run: pictures(run, lambda: post(run.ctx.out_dir)),
    columns=COLUMNS,
    amr_columns=AMR_COLUMNS,
)


def run(p: Mapping[str, Any], ctx: RunContext) -> dict[str, Any]:
    """Run Cahn-Hilliard with resolved parameters (checked again); return the summary's final values."""
    return run_model(HOOKS, CahnHilliardParameters.of(p), ctx)
