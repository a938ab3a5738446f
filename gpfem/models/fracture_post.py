"""Fracture results from the files of a run folder: crack centre line, damage picture, curves.

Crack centre line and iso-lines, damage picture, force-displacement and crack-length curves.

Reads only the run folder (``params.json``, ``history.csv``, ``fields.pvd``), so it works on a finished or
a stopped run (``gpfem post RUN_DIR``). Writes through :mod:`gpfem.io`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["axis_labels", "crack_summary", "post"]


def crack_summary(out: Path, comm: Any) -> dict[str, Any]:
    """The values of ``crack_path.json`` (written by :func:`post`), the same on every rank."""
    from gpfem.io.collective import rank0_call

    f = Path(out) / "crack_path.json"
    return rank0_call(comm, lambda: json.loads(f.read_text()) if f.exists() else {}, f, "read", share=True)


def post(out_dir: Any, comm: Any = None, write_pngs: bool = True) -> list[str]:
    """Crack centre line and iso-lines, damage PNG with the centre line, curves (rank 0 only).

    Files: ``crack_path.vtp``/``.csv`` (the centre line at the last field time: branch 0 is the main path
    to the tip), ``crack_path.pvd`` + ``crack_path/`` (the centre line at every field time),
    ``crack_isolines.vtp``/``.csv`` (the two ``alpha = crack_level`` flanks), ``crack_path.json``,
    ``damage.png``, ``force_displacement.png``, ``crack_length.png``.
    """
    from gpfem.io.crack_files import centerline_series
    from gpfem.io.crack_path import extract_crack_path
    from gpfem.io.history import read_history
    from gpfem.io.plots import field_png, field_series, line_plot, writer_rank
    from gpfem.io.summary import write_json
    from gpfem.models.fracture_crack import crack_origin

    out = Path(out_dir)
    made: list[str] = []
    if not writer_rank(comm):
        return made
    meta = json.loads((out / "params.json").read_text())
    params = meta["parameters"]
    level = params.get("crack_level", 0.5)
    pvd = field_series(out)
    series: list[tuple[float, Any]] = []
    if pvd is not None:
        iso, _ = extract_crack_path(pvd, "alpha", level, out, name="crack_isolines")
        info: dict[str, Any] = {"level": level, "time": iso["time"], "max_damage": iso["max_damage"]}
        for k in ("iso_line_length", "polylines", "iso_surface_area", "crack_area_path",
                  "crack_area_per_thickness", "note"):
            if k in iso:
                info[k] = iso[k]
        info["crack_length_isolines"] = iso.get("crack_length_path", 0.0)
        info["isolines_vtp_file"], info["isolines_csv_file"] = iso.get("vtp_file"), iso.get("csv_file")
        made += [f for f in (iso.get("vtp_file"), iso.get("csv_file")) if f]
        source = "notched_plate" if meta.get("mesh") is None else str(meta.get("mesh"))
        series = centerline_series(pvd, "alpha", level, 2.0 * float(params.get("ell", 0.0)),
                                   crack_origin(params, source), params.get("crack_grid", 0.0), out)
        overlay = None
        if series:
            cl = series[-1][1]
            info.update({**cl.summary(), "vtp_file": "crack_path.vtp", "csv_file": "crack_path.csv",
                         "series_file": "crack_path.pvd"})
            made += ["crack_path.vtp", "crack_path.csv", "crack_path.pvd"]
            overlay = _polydata(cl.branches) if cl.branches else None
        elif "crack_area_per_thickness" in info:  # 3D: half the iso-surface area per z-extent
            info.update({"crack_length_path": info["crack_area_per_thickness"],
                         "note_centerline": "centre line: 2D triangle meshes only; in 3D crack_length_path "
                                            "is half the iso-surface area per unit z-extent"})
        else:
            info.update({"crack_length_path": info["crack_length_isolines"],
                         "note_centerline": "centre line: 2D triangle meshes only; crack_length_path is "
                                            "half the iso-line length"})
        write_json(out / "crack_path.json", info)
        made.append("crack_path.json")
        if write_pngs:
            field_png(pvd, "alpha", out / "damage.png", cmap="magma_r", clim=(0.0, 1.0),
                      title="damage alpha", overlay=overlay)
            made.append("damage.png")
    hist = out / "history.csv"
    if write_pngs and hist.exists():
        rows = read_history(hist)
        if rows:
            u = [float(r["load"]) for r in rows]
            f = [float(r["reaction_force"]) for r in rows]
            xlabel, ylabel = axis_labels(params, _dimension(pvd, meta))
            line_plot(u, {"gpfem": f}, out / "force_displacement.png", xlabel, ylabel,
                      title="force-displacement")
            made.append("force_displacement.png")
            length = [float(r.get("crack_length") or "nan") for r in rows]
            if not any(v == v for v in length) and series:  # a run without the column: the field times
                from gpfem.drivers.quasistatic import LoadPath

                path = LoadPath(params.get("load_path") or [params.get("load_max", 0.0)])
                u = [path(t) for t, _ in series]
                length = [cl.length for _, cl in series]
            if any(v == v for v in length):
                unit = params.get("length_unit", "")
                line_plot(u, {"centre line": length}, out / "crack_length.png", xlabel,
                          "crack length" + (f" ({unit})" if unit else ""), title="crack length")
                made.append("crack_length.png")
    return made


def axis_labels(params: dict[str, Any], dim: int | None) -> tuple[str, str]:
    """Axis labels of the force-displacement curve with the run's units (``length_unit``, ``force_unit``).

    Args:
        params: The run's parameters.
        dim: Mesh dimension: 2 gives a force per thickness; ``None``: unknown, no thickness named.

    Returns:
        ``(x label, y label)``, e.g. ``("imposed displacement u (mm)", "reaction force (kN per mm
        thickness)")`` for the Miehe presets.
    """
    length, force = params.get("length_unit", ""), params.get("force_unit", "")
    x = "imposed displacement u" + (f" ({length})" if length else "")
    if dim == 2:
        per = f"per {length} thickness" if length else "per unit thickness"
        y = f"reaction force ({force} {per})" if force else f"reaction force ({per})"
    else:
        y = "reaction force" + (f" ({force})" if force else "")
    return x, y


def _dimension(pvd: Path | None, meta: dict[str, Any]) -> int | None:
    """2 or 3 from the field series' extent in z; without one, 2 for the built-in (2D) geometries."""
    if pvd is not None:
        from gpfem.io.plots import read_series

        b = read_series(pvd)[0].bounds
        return 2 if abs(b[5] - b[4]) < 1e-12 else 3
    return 2 if meta.get("mesh") is None else None


def _polydata(branches: list[Any]) -> Any:
    """The branches as a pyvista line PolyData (for overlays)."""
    import numpy as np

    from gpfem.io.plots import _pyvista

    pv = _pyvista()
    pts = np.concatenate([np.column_stack([b, np.zeros(len(b))]) for b in branches])
    lines, k = [], 0
    for b in branches:
        lines += [len(b), *range(k, k + len(b))]
        k += len(b)
    return pv.PolyData(pts, lines=np.asarray(lines))
