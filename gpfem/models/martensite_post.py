"""Martensite pictures from the files of a run folder (``gpfem post RUN_DIR``): variant map, energy curve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from gpfem.models.martensite_analysis import landau_minimum, variant_rule

__all__ = ["post", "variant_png"]

_COLOURS = ["#d9d9d9", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def variant_png(pvd: Path, png: Path, n: int, eta_star: float) -> Path:
    """Render the variant map: one flat colour per cell.

    The variant rule is applied to the cell averages of ``eta_p``, so no false colour bands appear between
    two variants (as they would when a P1 index field is interpolated).
    """
    from gpfem.io.plots import _pyvista, read_series

    pv = _pyvista()
    grid, t = read_series(pvd)
    cells = grid.point_data_to_cell_data()
    a = np.abs(np.stack([np.asarray(cells.cell_data[f"eta_{k + 1}"]) for k in range(n)]))
    cells.cell_data["variant map"] = variant_rule(a, eta_star).astype(float)
    p = pv.Plotter(off_screen=True, window_size=(900, 800))
    p.add_mesh(cells, scalars="variant map", cmap=_COLOURS[: n + 1], clim=(-0.5, n + 0.5),
               n_colors=n + 1, preference="cell",
               annotations={0.0: "parent/wall", **{float(k): f"variant {k}" for k in range(1, n + 1)}},
               scalar_bar_args={"title": "", "n_labels": 0, "vertical": True})
    b = cells.bounds
    if abs(b[5] - b[4]) < 1e-12:
        p.view_xy()
    else:
        p.view_isometric()
    p.add_text(f"martensite variants  t = {t:.6g}", font_size=12)
    p.screenshot(str(png))
    p.close()
    return Path(png)


def post(out_dir: Any, comm: Any = None, eta_star: float | None = None) -> list[str]:
    """PNGs from a run folder: the variant map (one colour per variant) and the energy curve (rank 0)."""
    from gpfem.io.history import read_history
    from gpfem.io.plots import field_series, history_curve, writer_rank

    out = Path(out_dir)
    made: list[str] = []
    if not writer_rank(comm):
        return made
    rows = read_history(out / "history.csv")
    n = sum(1 for k in (rows[0] if rows else {}) if k.startswith("variant_fraction_"))
    pvd = field_series(out)
    if pvd is not None and n:
        if eta_star is None:
            eta_star = landau_minimum(json.loads((out / "params.json").read_text())["parameters"])[1]
        variant_png(pvd, out / "variant_map.png", n, eta_star)
        made.append("variant_map.png")
    if history_curve(rows, "total_energy", out / "energy.png", "total free energy",
                     "Ginzburg-Landau martensite"):
        made.append("energy.png")
    return made
