"""Phase-field fracture's part of a run (:class:`~gpfem.app.runner.RunHooks`): mesh, load steps, summary.

The summary adds to the loop's values the history's (peak force, energies, crack length from the
dissipated energy), the solvers' counts, timing and memory, and the crack path of the field series.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gpfem.app.runner import Run, RunHooks, run_model
from gpfem.base.log import get_logger
from gpfem.drivers.stepping import StepControl
from gpfem.drivers.stop_rules import BrokenStop, CrackThroughStop, FirstOf, StopRule
from gpfem.drivers.timeloop import LoopSettings
from gpfem.io.collective import rank0_call
from gpfem.mesh import MeshBundle, bounding_box, mesh_size, notched_plate, notched_slab, rectangle
from gpfem.models.fracture import COLUMNS, Fracture
from gpfem.models.fracture_energy import c_w
from gpfem.models.fracture_post import crack_summary, post
from gpfem.models.fracture_spec import FractureParameters

if TYPE_CHECKING:
    from mpi4py import MPI

    from gpfem.app.registry import RunContext
    from gpfem.models.fracture_amr import FractureAMR

__all__ = ["AMR_COLUMNS", "HOOKS", "build_mesh", "displacement_solver_info", "history_summary", "peak_rss_mb",
           "preset_mesh", "run", "stop_rule"]

#: History columns an adaptive run adds.
AMR_COLUMNS = ["dofs", "adapts"]

log = get_logger("fracture")


def preset_mesh(p: Mapping[str, Any], comm: MPI.Comm) -> MeshBundle:
    """The built-in geometry the parameters describe (``geometry``, sizes, bands), on ``comm``."""
    if p["geometry"] == "strip":
        return rectangle(p["L"], p["H"], p["nx"], p["ny"], comm=comm)
    band, band_x = p["band"], p["band_x"]
    if p["geometry"] == "notched_slab":
        return notched_slab(p["L"], p["notch_length"], p["notch_width"], p["h_fine"], p["h_coarse"],
                            band=(band[0] * p["L"], band[1] * p["L"]), thickness=p["thickness"],
                            layers=p["layers"], comm=comm)
    return notched_plate(p["L"], p["notch_length"], p["notch_width"], p["h_fine"], p["h_coarse"],
                         band=(band[0] * p["L"], band[1] * p["L"]),
                         band_x=(band_x[0] * p["L"], band_x[1] * p["L"]), comm=comm)


def build_mesh(p: Mapping[str, Any], ctx: RunContext) -> MeshBundle:
    """The user's mesh file if the run has one, else :func:`preset_mesh` (``COMM_WORLD`` without a comm)."""
    from mpi4py import MPI

    return ctx.mesh(lambda: preset_mesh(p, ctx.comm if ctx.comm is not None else MPI.COMM_WORLD))


def stop_rule(p: Mapping[str, Any], bundle: MeshBundle) -> StopRule | None:
    """``stop_when_broken`` and ``stop_at_edge`` as one stop rule (``None``: neither is on)."""
    rules: list[StopRule] = []
    if p["stop_when_broken"] > 0:
        rules.append(BrokenStop(p["stop_when_broken"]))
    if p["stop_at_edge"] > 0:
        lo, hi = bounding_box(bundle.mesh)
        rules.append(CrackThroughStop(lo, hi, p["stop_at_edge"]))
    return rules[0] if len(rules) == 1 else FirstOf(rules) if rules else None


def _build(run: Run) -> Fracture:
    p, bundle = run.params, run.base
    model = Fracture(bundle, p)
    h = mesh_size(bundle)
    if p["ell"] < 2.0 * h:
        log.warning(f"ell = {p['ell']:g} is smaller than about two elements (h = {h:.3g}): the crack is "
                    "under-resolved and Gc is overestimated by about h/(c_w ell)")
    return model


def _adapt(run: Run, checkpoint: Path | None) -> FractureAMR:
    from gpfem.models.fracture_amr import start

    return start(run.params, run.base, checkpoint)


def _describe(run: Run) -> str:
    p, model = run.params, run.physics
    run.start["dofs_u"] = model.V.dofmap.index_map.size_global * model.V.dofmap.index_map_bs
    run.start["dofs_alpha"] = model.A.dofmap.index_map.size_global
    return f"{run.start['dofs_u']} u + {run.start['dofs_alpha']} alpha DOFs, {p['model']}, split {p['split']}"


def _control(run: Run) -> StepControl:
    p = run.params
    return StepControl(dt=p["dload"], dt_min=p["dload_min"], dt_max=p["dload_max"], grow=p["dload_grow"],
                       cut=p["dload_cut"], easy_iterations=p["easy_iterations"], max_retries=60)


def _settings(run: Run) -> LoopSettings:
    p, physics = run.params, run.physics
    return LoopSettings(t_end=physics.path.s_end, max_steps=p["max_steps"], stop_times=physics.path.stops,
                        field_interval=p["field_interval"], checkpoint_interval=p["checkpoint_interval"],
                        output_format=p["output_format"],
                        stop_rule=stop_rule(p, run.base))


def _summary(run: Run) -> dict[str, Any]:
    """The loop's timing and memory (one log line), the history's values, solver counts, the crack."""
    p, ctx, model, res = run.params, run.ctx, run.physics, run.result  # (the last mesh's model with AMR)
    solver_info = displacement_solver_info(model)
    u_counts = model.solver_u.counts
    rss = peak_rss_mb(ctx.comm)
    log.info(f"fracture: loop {run.wall_s:.1f} s wall, {run.cpu_s:.1f} s CPU (rank 0); peak RSS per rank "
             f"{', '.join(f'{v:.0f}' for v in rss)} MB; displacement solve {solver_info['u_solver']}, "
             f"{u_counts['solves']} solves, {u_counts['ksp_iterations']} KSP iterations")
    dofs = run.start["dofs_u"] + run.start["dofs_alpha"]
    h = mesh_size(run.mesh)
    summary = history_summary(ctx.out_dir, ctx.comm, p, h)
    counts = model.solver_counts()
    summary["solver"] = p["solver"]
    summary["solver_counts"] = counts
    summary["linear_solves"] = sum(c["newton_iterations"] for c in counts.values())
    summary.update({
        **run.start, "cells": run.mesh.num_cells_global(), "mesh": run.mesh.source, "h": h,
        "steps": res["steps"], "rejected_steps": res["rejected_steps"],
        "dofs_start": dofs, "dofs_end": dofs, "dofs_max": dofs,  # (an adaptive run's replace these)
        "final_load": model.path(res["time"]), "field_file": res["field_file"],
        "loop_wall_time_s": run.wall_s, "loop_cpu_time_s": run.cpu_s, "stopped_by": res["stopped_by"],
        "peak_rss_mb": max(rss), "peak_rss_mb_per_rank": rss, **solver_info,
    })
    if model.crack is not None and model.crack.calls:
        summary["crack_tracking_s"] = model.crack.seconds
        summary["crack_tracking_cpu_s"] = model.crack.cpu_seconds
        summary["crack_tracking_calls"] = model.crack.calls
    return summary


def _finish(run: Run) -> dict[str, Any]:
    """The crack path files and pictures (``post``; PNGs when ``png``) and the crack path's values."""
    out, comm = run.ctx.out_dir, run.ctx.comm
    if not (run.result["field_file"] and str(run.result["field_file"]).endswith(".pvd")):
        return {}
    made = rank0_call(comm, lambda: post(out, write_pngs=run.params["png"]), out, share=True)
    return {**crack_summary(out, comm), "post_files": made}


#: Fracture's hooks (``SPEC.hooks``).
HOOKS = RunHooks(name="fracture", mesh=build_mesh, build=_build, adapt=_adapt, describe=_describe,
                 summary=_summary, finish=_finish, columns=COLUMNS, amr_columns=AMR_COLUMNS,
                 control=_control, settings=_settings)


def run(p: Mapping[str, Any], ctx: RunContext) -> dict[str, Any]:
    """Run phase-field fracture with resolved parameters (checked again); return the summary's values."""
    return run_model(HOOKS, FractureParameters.of(p), ctx)


def peak_rss_mb(comm: MPI.Comm | None) -> list[float]:
    """Peak resident memory (``getrusage`` max RSS) of every rank in MB, on every rank (collective)."""
    import resource

    mine = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return [float(v) for v in (comm.allgather(mine) if comm is not None else [mine])]


def displacement_solver_info(model: Fracture) -> dict[str, Any]:
    """The displacement solve in effect at the end (``ksp+pc``) and whether it fell back to direct.

    Its solves and iterations are in ``model.solver_counts()`` (summary ``solver_counts``).
    """
    s = model.solver_u
    ksp = s.snes.getKSP()
    return {"u_solver": f"{ksp.getType()}+{ksp.getPC().getType()}", "u_solver_fell_back": s.fell_back}


def history_summary(out: Path, comm: MPI.Comm | None, p: Mapping[str, Any], h: float) -> dict[str, Any]:
    """Peak load, final energies and the energy-based crack length, from ``history.csv`` (read on rank 0)."""
    from gpfem.io.history import read_history

    def read() -> dict[str, Any]:
        rows = read_history(Path(out) / "history.csv")
        f = np.array([float(r["reaction_force"]) for r in rows])
        measured = f.size > 0 and bool(np.isfinite(f).any())
        i = int(np.nanargmax(np.abs(f))) if measured else 0
        last = rows[-1] if rows else {}
        cw = c_w(p["model"])
        diss = float(last.get("dissipated_energy", 0.0) or 0.0)
        gc_eff = p["Gc"] * (1.0 + h / (cw * p["ell"]))
        return {
            "peak_force": float(f[i]) if measured else float("nan"),
            "load_at_peak": float(rows[i]["load"]) if rows else 0.0,
            "final_dissipated_energy": diss,
            "final_elastic_energy": float(last.get("elastic_energy", 0.0) or 0.0),
            "max_damage": float(last.get("max_damage", 0.0) or 0.0),
            "alt_min_iterations_total": int(sum(int(float(r["alt_min_iterations"] or 0)) for r in rows)),
            "newton_iterations_total": int(sum(int(float(r.get("newton_iterations") or 0)) for r in rows)),
            "crack_length_energy": diss / p["Gc"],
            "crack_length_energy_corrected": diss / gc_eff,
            "Gc_eff": gc_eff,
        }

    return rank0_call(comm, read, Path(out) / "history.csv", "read", share=True)
