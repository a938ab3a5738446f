"""The crack centre line as files: a series over the times of a run's fields, CSV and VTK PolyData.

:func:`centerline_series` reads a ``.pvd`` field series (pyvista, one process), finds the centre line at
every time (:mod:`gpfem.crack`) and writes it beside the series; :func:`write_centerline_csv` and
:func:`write_centerline_vtp` write one :class:`~gpfem.crack.centerline.Centerline`.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from gpfem.crack import Centerline, SamplingGrid, cell_sizes, default_spacing, extract_centerline

__all__ = ["centerline_series", "triangles", "write_centerline_csv", "write_centerline_vtp"]


def centerline_series(
    pvd: str | Path,
    field: str = "alpha",
    level: float = 0.5,
    prune_length: float = 0.0,
    origin: tuple[float, float] | None = None,
    spacing: float | None = None,
    out_dir: str | Path | None = None,
    name: str = "crack_path",
) -> list[tuple[float, Centerline]]:
    """The centre line at every time of a field series, written beside it (one process).

    Writes ``<name>/<name>_<k>.vtp`` and the index ``<name>.pvd`` (opened in ParaView over ``fields.pvd``,
    same times), and the last time as ``<name>.vtp`` and ``<name>.csv``.

    Returns:
        ``[(time, Centerline), ...]``; ``[]`` when the series is not 2D triangles.
    """
    import os

    from gpfem.io.plots import _pyvista
    from gpfem.io.pvd import PvdIndex

    pv = _pyvista()
    out = Path(out_dir) if out_dir is not None else Path(pvd).parent
    reader = pv.get_reader(str(pvd))
    times = list(reader.time_values) or [0.0]
    (out / name).mkdir(exist_ok=True)
    index = PvdIndex(out / f"{name}.pvd")
    results: list[tuple[float, Centerline]] = []
    cache: tuple[np.ndarray, SamplingGrid, Any] | None = None
    for k, t in enumerate(times):
        if reader.time_values:
            reader.set_active_time_value(t)
        data = reader.read()
        while isinstance(data, pv.MultiBlock):
            data = data.combine() if data.n_blocks > 1 else data[0]
        tri = triangles(data)
        pts = np.asarray(data.points, dtype=float)
        if tri is None or np.ptp(pts[:, 2]) > 1e-12 * max(1.0, float(np.ptp(pts[:, 0]))):
            return []
        if cache is None or not np.array_equal(cache[0], pts):
            s = spacing if spacing and spacing > 0 else default_spacing(cell_sizes(pts, tri))
            grid = SamplingGrid((pts[:, 0].min(), pts[:, 0].max(), pts[:, 1].min(), pts[:, 1].max()), s)
            cache = (pts, grid, grid.locate(pts, tri))
        _, grid, located = cache
        vals = grid.sample(np.asarray(data.point_data[field], dtype=float), located)
        cl = extract_centerline(vals, grid, level, prune_length, origin)
        piece = Path(name) / f"{name}_{k:06d}.vtp"
        write_centerline_vtp(out / piece, cl)
        index.add(float(t), piece)
        results.append((float(t), cl))
    if results:
        last = results[-1][1]
        write_centerline_vtp(out / f"{name}.vtp", last)
        write_centerline_csv(out / f"{name}.csv", last)
    for stale in sorted((out / name).glob(f"{name}_*.vtp"))[len(times):]:
        os.remove(stale)
    return results


def triangles(grid: Any) -> np.ndarray | None:
    """The triangles (vertex indices, ``(n, 3)``) of a pyvista grid read from a field series.

    VTK_TRIANGLE and VTK_LAGRANGE_TRIANGLE (what DOLFINx writes); ``None`` if it has none (3D cells,
    quadrilaterals).
    """
    cd = grid.cells_dict
    parts = [np.asarray(cd[k])[:, :3] for k in (5, 69) if k in cd]
    return np.concatenate(parts).astype(np.int64) if parts else None


def write_centerline_csv(path: str | Path, cl: Centerline) -> Path:
    """``branch,x,y`` rows, one ordered polyline per branch (branch 0: the main path, to the tip)."""
    p = Path(path)
    with p.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["branch", "x", "y"])
        for k, br in enumerate(cl.branches):
            for x, y in br:
                w.writerow([k, repr(float(x)), repr(float(y))])
    return p


def write_centerline_vtp(path: str | Path, cl: Centerline) -> Path:
    """The branches as VTK PolyData lines (z = 0), with a ``branch`` cell array: ParaView and pyvista."""
    p = Path(path)
    pts = np.concatenate(cl.branches) if cl.branches else np.zeros((0, 2))
    sizes = [len(b) for b in cl.branches]
    offsets = np.cumsum(sizes).astype(np.int64)
    conn = np.arange(len(pts), dtype=np.int64)
    xyz = " ".join(f"{float(x)!r} {float(y)!r} 0" for x, y in pts)
    text = (
        '<?xml version="1.0"?>\n'
        '<VTKFile type="PolyData" version="1.0" byte_order="LittleEndian">\n<PolyData>\n'
        f'<Piece NumberOfPoints="{len(pts)}" NumberOfLines="{len(sizes)}">\n'
        '<Points><DataArray type="Float64" NumberOfComponents="3" format="ascii">'
        f'{xyz}</DataArray></Points>\n'
        '<Lines>\n'
        f'<DataArray type="Int64" Name="connectivity" format="ascii">{" ".join(map(str, conn))}</DataArray>\n'
        f'<DataArray type="Int64" Name="offsets" format="ascii">{" ".join(map(str, offsets))}</DataArray>\n'
        '</Lines>\n'
        '<CellData Scalars="branch">\n'
        f'<DataArray type="Int32" Name="branch" format="ascii">{" ".join(map(str, range(len(sizes))))}'
        '</DataArray>\n</CellData>\n'
        '</Piece>\n</PolyData>\n</VTKFile>\n'
    )
    p.write_text(text)
    return p
