"""Run Cahn-Hilliard from resolved parameters: mesh, model, the shared time loop, the summary's values."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from gpfem.app.parameters import raise_first
from gpfem.base.log import get_logger
from gpfem.drivers.timeloop import CHECKPOINT, run_time_loop
from gpfem.io.collective import rank0_call
from gpfem.mesh import rectangle, sphere_surface, t_shape
from gpfem.models.cahn_hilliard import COLUMNS, CahnHilliard
from gpfem.models.cahn_hilliard_post import post
from gpfem.models.cahn_hilliard_spec import check
from gpfem.models.common import loop_settings, step_control

if TYPE_CHECKING:
    from gpfem.models.cahn_hilliard_amr import CahnHilliardAMR

__all__ = ["AMR_COLUMNS", "build_mesh", "run"]

#: History columns an adaptive run adds.
AMR_COLUMNS = ["dofs", "adapts", "adapt_energy_change"]

log = get_logger("cahn_hilliard")


def build_mesh(p: dict[str, Any], comm: Any) -> Any:
    """The built-in domain named by ``geometry``."""
    if p["geometry"] == "tshape":
        return t_shape(h=p["h"], comm=comm)
    if p["geometry"] == "sphere":
        return sphere_surface(p["radius"], p["h"], comm=comm)
    return rectangle(p["Lx"], p["Ly"], p["nx"], p["ny"], comm=comm)


def run(p: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Run Cahn-Hilliard with resolved parameters; return the summary's final values."""
    raise_first(check(p))  # done by resolve already; again for callers that built ``p`` by hand
    t0 = time.perf_counter()
    bundle = ctx.mesh(lambda: build_mesh(p, ctx.comm))
    if p["amr"]:
        from gpfem.models.cahn_hilliard_amr import start

        checkpoint = ctx.out_dir / CHECKPOINT if getattr(ctx, "restart", None) is not None else None
        amr = start(p, bundle, checkpoint)
        model: CahnHilliard | CahnHilliardAMR = amr
        mesh_now = amr.amesh.bundle
    else:
        model = ch = CahnHilliard(p, bundle)
        mesh_now = bundle
    try:
        if p["amr"]:
            ndofs, per = 2 * mesh_now.mesh.geometry.index_map().size_global, ""
        else:
            ndofs = ch.W.dofmap.index_map.size_global * ch.W.dofmap.index_map_bs
            per = ""
            if ch.periodic is not None:
                per = (f", periodic in {','.join('xyz'[a] for a in ch.periodic.axes)} "
                       f"({ch.solver.problem.size_global} unknowns)")  # type: ignore[union-attr]
        log.info(f"cahn-hilliard: {mesh_now.source}, {mesh_now.num_cells_global()} cells, {ndofs} DOFs{per}, "
                 f"{ctx.comm.size} rank(s); setup {time.perf_counter() - t0:.1f} s")
        initial = model.values
        res = run_time_loop(model, step_control(p), loop_settings(p), ctx,
                            COLUMNS + AMR_COLUMNS if p["amr"] else COLUMNS)
        final = model.values
    finally:
        model.close()
    summary = {
        "dofs": ndofs,
        "dofs_start": ndofs,
        "dofs_end": ndofs,
        "dofs_max": ndofs,
        "cells": bundle.num_cells_global(),
        "mesh": bundle.source,
        "steps": res["steps"],
        "rejected_steps": res["rejected_steps"],
        "final_time": res["time"],
        "initial_free_energy": initial["free_energy"],
        "final_free_energy": final["free_energy"],
        "initial_mass": initial["mass"],
        "final_mass": final["mass"],
        "field_file": res["field_file"],
    }
    if p["amr"]:
        summary.update(amr.summary())
        summary["cells"] = amr.amesh.bundle.num_cells_global()
    if p["png"] and res["field_file"] and res["field_file"].endswith(".pvd"):
        summary["png"] = rank0_call(ctx.comm, lambda: post(ctx.out_dir), ctx.out_dir, share=True)
    return summary
