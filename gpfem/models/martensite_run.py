"""Martensite's part of a run (:class:`~gpfem.app.runner.RunHooks`): mesh, grid, wall and twin measures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gpfem.app.run_parameters import loop_settings
from gpfem.app.runner import Run, RunHooks, loop_values, pictures, run_model
from gpfem.drivers.stop_rules import EnergyRateStop
from gpfem.drivers.timeloop import LoopSettings
from gpfem.io.table import write_table
from gpfem.mesh import MeshBundle, box, rectangle
from gpfem.models.martensite import Martensite, columns
from gpfem.models.martensite_analysis import double_well_wall, profile_error
from gpfem.models.martensite_post import post
from gpfem.models.martensite_spec import MartensiteParameters

if TYPE_CHECKING:
    from gpfem.app.registry import RunContext

__all__ = ["HOOKS", "build_mesh", "grid", "run", "wall_summary"]


def grid(p: Mapping[str, Any], ctx: RunContext) -> tuple[float, ...] | None:
    """``(nx, ny[, nz], Lx, Ly[, Lz])`` of the built-in rectangle/box; ``None`` for the user's mesh file."""
    if ctx.mesh_file is not None:
        return None
    if p["dim"] == 3:
        return (p["nx"], p["ny"], p["nz"], p["Lx"], p["Ly"], p["Lz"])
    return (p["nx"], p["ny"], p["Lx"], p["Ly"])


def build_mesh(p: Mapping[str, Any], ctx: RunContext) -> MeshBundle:
    """The preset's rectangle/box, or the user's mesh file."""
    if p["dim"] == 3:
        return ctx.mesh(lambda: box(p["Lx"], p["Ly"], p["Lz"], p["nx"], p["ny"], p["nz"], comm=ctx.comm))
    return ctx.mesh(lambda: rectangle(p["Lx"], p["Ly"], p["nx"], p["ny"], comm=ctx.comm,
                                      quadrilateral=p["cell"] == "quadrilateral"))


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


def _describe(run: Run) -> str:
    model = run.model
    run.start["dofs"] = model.W.dofmap.index_map.size_global * model.W.dofmap.index_map_bs
    return f"{model.n} variants, {run.start['dofs']} DOFs, elastic={model.elastic}"


def _settings(run: Run) -> LoopSettings:
    p = run.params
    settings = loop_settings(p)
    if p["stop_rate"] > 0:
        settings.stop_rule = EnergyRateStop("total_energy", p["stop_rate"], p["stop_window"])
    return settings


def _summary(run: Run) -> dict[str, Any]:
    """Sizes, the loop's values, energies; wall orientation, twin planes, a single wall's measures."""
    model, res = run.model, run.result
    summary: dict[str, Any] = {
        "dofs": run.start["dofs"], "cells": run.base.num_cells_global(), "mesh": run.base.source,
        "variants": model.n, **loop_values(run), "stopped_by": res["stopped_by"],
        "loop_wall_time_s": run.wall_s, "initial_total_energy": run.initial["total_energy"],
        "final": run.final, "f_min": model.f_min, "eta_star": model.eta_star,
    }
    orient = model.orientation()
    if orient is not None:
        summary["wall_orientation"] = orient
    planes = model.twin_planes()
    if planes is not None:
        summary["twin_planes"] = planes
    if run.params["initial"] == "step":
        ws = wall_summary(model)
        prof = ws.pop("_profile")
        summary["wall"] = ws
        write_table(run.ctx.out_dir / "profile.csv", ["x", *(f"eta_{k + 1}" for k in range(model.n))], prof,
                    run.ctx.comm)
    return summary


#: The martensite model's hooks (``SPEC.hooks``).
HOOKS = RunHooks(
    name="martensite",
    mesh=build_mesh,
    build=lambda run: Martensite(run.base, run.params, grid(run.params, run.ctx)),
    describe=_describe,
    summary=_summary,
    finish=lambda run: pictures(run, lambda: post(run.ctx.out_dir, eta_star=run.model.eta_star)),
    columns=lambda run: columns(run.model.n),
    settings=_settings,
)


def run(p: Mapping[str, Any], ctx: RunContext) -> dict[str, Any]:
    """Run the martensite model with resolved parameters (checked again); return the summary's values."""
    return run_model(HOOKS, MartensiteParameters.of(p), ctx)
