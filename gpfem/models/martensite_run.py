"""Run the martensite model from resolved parameters: mesh, model, the time loop, wall and twin measures."""

from __future__ import annotations

import time
from typing import Any

from gpfem.base.log import get_logger
from gpfem.drivers.stop_rules import EnergyRateStop
from gpfem.drivers.timeloop import run_time_loop
from gpfem.io.collective import rank0_call
from gpfem.io.table import write_table
from gpfem.mesh import MeshBundle, box, rectangle
from gpfem.models.common import loop_settings, step_control
from gpfem.models.martensite import Martensite, columns
from gpfem.models.martensite_analysis import double_well_wall, profile_error
from gpfem.models.martensite_post import post

__all__ = ["build_mesh", "run", "wall_summary"]

log = get_logger("martensite")


def build_mesh(p: dict[str, Any], ctx: Any) -> tuple[MeshBundle, tuple | None]:
    """The preset's rectangle/box and its grid, or the user's mesh file (and no grid)."""
    grid: tuple[Any, ...]
    if p["dim"] == 3:
        grid = (p["nx"], p["ny"], p["nz"], p["Lx"], p["Ly"], p["Lz"])
        bundle = ctx.mesh(lambda: box(p["Lx"], p["Ly"], p["Lz"], p["nx"], p["ny"], p["nz"], comm=ctx.comm))
    else:
        grid = (p["nx"], p["ny"], p["Lx"], p["Ly"])
        bundle = ctx.mesh(lambda: rectangle(p["Lx"], p["Ly"], p["nx"], p["ny"], comm=ctx.comm,
                                            quadrilateral=p["cell"] == "quadrilateral"))
    return bundle, None if ctx.mesh_file is not None else grid


def wall_summary(model: Martensite) -> dict[str, Any]:
    """Excess energy per unit wall area of a single wall across x, its gradient part, and analytics.

    The averaged profile (rank 0; ``None`` elsewhere) is under the key ``_profile``.
    """
    p = model.p
    vals = model.values
    area = model.volume / p["Lx"]
    excess = (vals["total_energy"] - model.f_min * model.volume) / area
    grad = vals["gradient_energy"] / area
    out: dict[str, Any] = {"wall_energy": excess, "wall_gradient_energy": grad,
                           "equipartition_ratio": grad / excess if excess else float("nan"),
                           "f_min": model.f_min, "eta_star": model.eta_star}
    prof = model.profile()
    if p["landau"] == "double-well" and model.n == 1:
        ana = double_well_wall(p["kappa"], p["W"])
        out.update({"analytic_wall_energy": ana["energy"], "analytic_delta": ana["delta"],
                    "wall_energy_rel_error": excess / ana["energy"] - 1.0})
        if prof is not None:
            err, x0 = profile_error(prof[:, 0], prof[:, 1], ana["delta"])
            out.update({"profile_max_error": err, "wall_centre": x0})
    out["_profile"] = prof
    return out


def run(p: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Run the martensite model with resolved parameters; return the summary's final values."""
    t0 = time.perf_counter()
    bundle, grid = build_mesh(p, ctx)
    model = Martensite(p, bundle, grid)
    try:
        ndofs = model.W.dofmap.index_map.size_global * model.W.dofmap.index_map_bs
        log.info(f"martensite: {bundle.source}, {bundle.num_cells_global()} cells, {model.n} variants, "
                 f"{ndofs} DOFs, elastic={model.elastic}, {ctx.comm.size} rank(s); "
                 f"setup {time.perf_counter() - t0:.1f} s")
        initial = model.values
        t1 = time.perf_counter()
        settings = loop_settings(p)
        if p["stop_rate"] > 0:
            settings.stop_rule = EnergyRateStop("total_energy", p["stop_rate"], p["stop_window"])
        res = run_time_loop(model, step_control(p), settings, ctx, columns(model.n))
        final = model.values
        summary: dict[str, Any] = {
            "dofs": ndofs,
            "cells": bundle.num_cells_global(),
            "mesh": bundle.source,
            "variants": model.n,
            "steps": res["steps"],
            "rejected_steps": res["rejected_steps"],
            "final_time": res["time"],
            "stopped_by": res["stopped_by"],
            "loop_wall_time_s": time.perf_counter() - t1,
            "initial_total_energy": initial["total_energy"],
            "final": final,
            "f_min": model.f_min,
            "eta_star": model.eta_star,
            "field_file": res["field_file"],
        }
        orient = model.orientation()
        if orient is not None:
            summary["wall_orientation"] = orient
        planes = model.twin_planes()
        if planes is not None:
            summary["twin_planes"] = planes
        if p["initial"] == "step":
            ws = wall_summary(model)
            prof = ws.pop("_profile")
            summary["wall"] = ws
            write_table(ctx.out_dir / "profile.csv", ["x", *(f"eta_{k + 1}" for k in range(model.n))], prof,
                        ctx.comm)
    finally:
        model.close()
    if p["png"] and res["field_file"] and res["field_file"].endswith(".pvd"):
        summary["png"] = rank0_call(ctx.comm, lambda: post(ctx.out_dir, eta_star=model.eta_star), ctx.out_dir,
                                    share=True)
    return summary
