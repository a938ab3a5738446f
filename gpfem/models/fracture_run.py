"""Run phase-field fracture from resolved parameters: checks, mesh, model, load steps, summary values."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gpfem.app.parameters import raise_first
from gpfem.base.log import get_logger
from gpfem.drivers.stepping import StepControl
from gpfem.drivers.stop_rules import BrokenStop, CrackThroughStop, FirstOf
from gpfem.drivers.timeloop import CHECKPOINT, LoopSettings, run_time_loop
from gpfem.io.collective import rank0_call
from gpfem.mesh import MeshBundle, bounding_box, mesh_size, notched_plate, notched_slab, rectangle
from gpfem.models.fracture import COLUMNS, Fracture
from gpfem.models.fracture_energy import c_w
from gpfem.models.fracture_post import crack_summary, post
from gpfem.models.fracture_spec import check

if TYPE_CHECKING:
    from gpfem.models.fracture_amr import FractureAMR

__all__ = ["AMR_COLUMNS", "build_mesh", "check_parameters", "displacement_solver_info", "peak_rss_mb", "run"]

#: History columns an adaptive run adds.
AMR_COLUMNS = ["dofs", "adapts"]

log = get_logger("fracture")


def build_mesh(p: dict[str, Any], ctx: Any) -> MeshBundle:
    """The preset's geometry, or the user's mesh file."""

    def builtin() -> MeshBundle:
        if p["geometry"] == "strip":
            return rectangle(p["L"], p["H"], p["nx"], p["ny"], comm=ctx.comm)
        band, band_x = p["band"], p["band_x"]
        if p["geometry"] == "notched_slab":
            return notched_slab(p["L"], p["notch_length"], p["notch_width"], p["h_fine"], p["h_coarse"],
                                band=(band[0] * p["L"], band[1] * p["L"]), thickness=p["thickness"],
                                layers=p["layers"], comm=ctx.comm)
        return notched_plate(p["L"], p["notch_length"], p["notch_width"], p["h_fine"], p["h_coarse"],
                             band=(band[0] * p["L"], band[1] * p["L"]),
                             band_x=(band_x[0] * p["L"], band_x[1] * p["L"]), comm=ctx.comm)

    return ctx.mesh(builtin)


def stop_rule(p: dict[str, Any], bundle: MeshBundle) -> Any:
    """``stop_when_broken`` and ``stop_at_edge`` as one stop rule (``None``: neither is on)."""
    rules: list[Any] = []
    if p["stop_when_broken"] > 0:
        rules.append(BrokenStop(p["stop_when_broken"]))
    if p["stop_at_edge"] > 0:
        lo, hi = bounding_box(bundle.mesh)
        rules.append(CrackThroughStop(lo, hi, p["stop_at_edge"]))
    return rules[0] if len(rules) == 1 else FirstOf(rules) if rules else None


def check_parameters(p: dict[str, Any]) -> None:
    """Cross-parameter checks, before any mesh or form is built.

    :func:`gpfem.models.fracture_spec.check`, which ``resolve`` runs already; again here for callers that
    built ``p`` by hand.

    Raises:
        ParameterError: Naming the offending parameter.
    """
    raise_first(check(p))


def run(p: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Run phase-field fracture with resolved parameters; return the summary's final values."""
    check_parameters(p)
    t0 = time.perf_counter()
    bundle = build_mesh(p, ctx)
    if p["amr"]:
        from gpfem.models.fracture_amr import start

        checkpoint = ctx.out_dir / CHECKPOINT if getattr(ctx, "restart", None) is not None else None
        amr = start(p, bundle, checkpoint)
        driver: Fracture | FractureAMR = amr
        model, mesh_now = amr.model, amr.amesh.bundle
    else:
        model = driver = Fracture(p, bundle)
        mesh_now = bundle
        h = mesh_size(bundle)
        if p["ell"] < 2.0 * h:
            log.warning(f"ell = {p['ell']:g} is smaller than about two elements (h = {h:.3g}): the crack is "
                        "under-resolved and Gc is overestimated by about h/(c_w ell)")
    try:
        ndofs_u = model.V.dofmap.index_map.size_global * model.V.dofmap.index_map_bs
        ndofs_a = model.A.dofmap.index_map.size_global
        log.info(f"fracture: {mesh_now.source}, {mesh_now.num_cells_global()} cells, {ndofs_u} u + {ndofs_a} "
                 f"alpha DOFs, {p['model']}, split {p['split']}, {ctx.comm.size} rank(s); "
                 f"setup {time.perf_counter() - t0:.1f} s")
        control = StepControl(dt=p["dload"], dt_min=p["dload_min"], dt_max=p["dload_max"],
                              grow=p["dload_grow"], easy_iterations=p["easy_iterations"], max_retries=60)
        settings = LoopSettings(t_end=model.path.s_end, max_steps=p["max_steps"],
                                stop_times=model.path.stops, field_interval=p["field_interval"],
                                checkpoint_interval=p["checkpoint_interval"],
                                output_format=p["output_format"],
                                stop_rule=stop_rule(p, mesh_now))
        t1, c1 = time.perf_counter(), time.process_time()
        res = run_time_loop(driver, control, settings, ctx, COLUMNS + AMR_COLUMNS if p["amr"] else COLUMNS)
        wall, cpu = time.perf_counter() - t1, time.process_time() - c1
        last = model if isinstance(driver, Fracture) else driver.model
        solver_info = displacement_solver_info(last)
        u_counts = last.solver_u.counts
        rss = peak_rss_mb(ctx.comm)
        log.info(f"fracture: loop {wall:.1f} s wall, {cpu:.1f} s CPU (rank 0); peak RSS per rank "
                 f"{', '.join(f'{v:.0f}' for v in rss)} MB; displacement solve {solver_info['u_solver']}, "
                 f"{u_counts['solves']} solves, {u_counts['ksp_iterations']} KSP iterations")
    finally:
        driver.close()
    dofs = ndofs_u + ndofs_a
    dofs_info: dict[str, Any] = {"dofs_start": dofs, "dofs_end": dofs, "dofs_max": dofs}
    if p["amr"]:
        model, bundle = amr.model, amr.amesh.bundle  # the last mesh's model (its crack tracker)
        dofs_info = amr.summary()
        h = mesh_size(bundle)
    summary = history_summary(ctx.out_dir, ctx.comm, p, h)
    counts = model.solver_counts()  # (of the last mesh's model with AMR)
    summary["solver"] = p["solver"]
    summary["solver_counts"] = counts
    summary["linear_solves"] = sum(c["newton_iterations"] for c in counts.values())
    summary.update({
        "dofs_u": ndofs_u, "dofs_alpha": ndofs_a, "cells": bundle.num_cells_global(),
        "mesh": bundle.source, "h": h, "steps": res["steps"], "rejected_steps": res["rejected_steps"],
        **dofs_info,
        "final_load": model.path(res["time"]), "field_file": res["field_file"],
        "loop_wall_time_s": wall, "loop_cpu_time_s": cpu, "stopped_by": res["stopped_by"],
        "peak_rss_mb": max(rss), "peak_rss_mb_per_rank": rss, **solver_info,
    })
    if model.crack is not None and model.crack.calls:
        summary["crack_tracking_s"] = model.crack.seconds
        summary["crack_tracking_cpu_s"] = model.crack.cpu_seconds
        summary["crack_tracking_calls"] = model.crack.calls
    if res["field_file"] and str(res["field_file"]).endswith(".pvd"):
        made = rank0_call(ctx.comm, lambda: post(ctx.out_dir, write_pngs=p["png"]), ctx.out_dir, share=True)
        summary.update(crack_summary(ctx.out_dir, ctx.comm))
        summary["post_files"] = made
    return summary


def peak_rss_mb(comm: Any) -> list[float]:
    """Peak resident memory (``getrusage`` max RSS) of every rank in MB, on every rank (collective)."""
    import resource

    return [float(v) for v in comm.allgather(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)]


def displacement_solver_info(model: Any) -> dict[str, Any]:
    """The displacement solve in effect at the end (``ksp+pc``) and whether it fell back to direct.

    Its solves and iterations are in ``model.solver_counts()`` (summary ``solver_counts``).
    """
    s = model.solver_u
    ksp = s.snes.getKSP()
    return {"u_solver": f"{ksp.getType()}+{ksp.getPC().getType()}", "u_solver_fell_back": s.fell_back}


def history_summary(out: Path, comm: Any, p: dict[str, Any], h: float) -> dict[str, Any]:
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
