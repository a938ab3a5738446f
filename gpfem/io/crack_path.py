"""The ``alpha = level`` iso-lines (2D) or iso-surface (3D) of a written damage field: the band's flanks.

The damage band of a fully developed crack is bounded by two iso-lines ``alpha = level``, one on each flank,
so the crack length is about half the length of the iso-lines (in 3D: the crack area is half the iso-surface
area, and divided by the z-extent of the mesh, ``crack_area_per_thickness``, it is the crack length of a slab:
the SENT extruded in z gives the 2D value). They are written as ``<name>.vtp`` (ParaView and pyvista open it)
and, in 2D, as ``<name>.csv`` with columns ``line,x,y`` (one ordered polyline per ``line`` id); the fracture
post-processing names them ``crack_isolines``. The crack itself, its centre line, is :mod:`gpfem.crack`
(written by :mod:`gpfem.io.crack_files`). Everything is read back from the ``.pvd`` series a run leaves, on
one process.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from gpfem.io.plots import read_series

__all__ = ["extract_crack_path", "polylines"]


def polylines(poly: Any) -> list[np.ndarray]:
    """The ordered polylines of a line PolyData (after merging duplicate points and stripping)."""
    if poly.n_points == 0:
        return []
    stripped = poly.clean(tolerance=1e-10, absolute=False).strip(join=True)
    lines = stripped.lines
    out: list[np.ndarray] = []
    i = 0
    while i < len(lines):
        n = int(lines[i])
        ids = lines[i + 1 : i + 1 + n]
        out.append(np.asarray(stripped.points[ids]))
        i += n + 1
    return out


def extract_crack_path(
    pvd: str | Path,
    field: str = "alpha",
    level: float = 0.5,
    out_dir: str | Path | None = None,
    index: int = -1,
    name: str = "crack_path",
) -> tuple[dict[str, Any], Any]:
    """Extract the iso-line/surface ``field = level`` at one time of a series and write it.

    Args:
        pvd: The ``.pvd`` series.
        field: The damage field's name.
        level: Iso-value.
        out_dir: Where to write ``<name>.vtp`` (and ``.csv`` in 2D); defaults to the series' folder.
        index: Which time of the series (last by default).
        name: Base name of the files.

    Returns:
        ``(info, path)``: ``info`` holds ``crack_length_path`` (2D; ``crack_area_path`` and
        ``crack_area_per_thickness`` in 3D), the file
        names, ``level`` and ``time``; ``path`` is the pyvista object (for overlays).
    """
    grid, t = read_series(pvd, index)
    out = Path(out_dir) if out_dir is not None else Path(pvd).parent
    b = grid.bounds
    is_2d = abs(b[5] - b[4]) < 1e-12 * max(1.0, abs(b[1] - b[0]))
    if field not in grid.point_data:
        raise KeyError(f"field '{field}' not in {pvd}")
    vmax = float(np.max(grid.point_data[field])) if grid.n_points else 0.0
    info: dict[str, Any] = {"level": level, "time": t, "max_damage": vmax}
    if vmax < level:
        info.update({"crack_length_path": 0.0, "vtp_file": None, "csv_file": None,
                     "note": f"no damage above {level}"})
        return info, None
    iso = grid.contour([level], scalars=field)
    iso.save(str(out / f"{name}.vtp"))
    info["vtp_file"] = f"{name}.vtp"
    if is_2d:
        lines = polylines(iso)
        total = float(sum(np.linalg.norm(np.diff(pl, axis=0), axis=1).sum() for pl in lines))
        with (out / f"{name}.csv").open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["line", "x", "y"])
            for k, pl in enumerate(lines):
                for x, y, _ in pl:
                    w.writerow([k, repr(float(x)), repr(float(y))])
        pts = np.concatenate(lines) if lines else np.zeros((0, 3))
        info.update({
            "crack_length_path": 0.5 * total,
            "iso_line_length": total,
            "polylines": len(lines),
            "csv_file": f"{name}.csv",
            "path_bounds": [float(pts[:, 0].min()), float(pts[:, 0].max()),
                            float(pts[:, 1].min()), float(pts[:, 1].max())] if len(pts) else [],
        })
    else:
        area = float(iso.extract_surface(algorithm="dataset_surface").area) if iso.n_points else 0.0
        depth = float(b[5] - b[4])  # a slab's thickness: the crack area per thickness is a 2D length
        info.update({"crack_area_path": 0.5 * area, "iso_surface_area": area, "csv_file": None,
                     "crack_area_per_thickness": 0.5 * area / depth})
    return info, iso
