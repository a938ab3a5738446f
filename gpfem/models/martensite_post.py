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
    from gpfem.io.plots import category_png, read_series

    grid, t = read_series(pvd)
    cells = grid.point_data_to_cell_data()
    a = np.abs(np.stack([np.asarray(cells.cell_data[f"eta_{k + 1}"]) for k in range(n)]))
    labels = ["parent/wall", *(f"variant {k}" for k in range(1, n + 1))]
    return category_png(cells, variant_rule(a, eta_star), png, labels, _COLOURS,
                        f"martensite variants  t = {t:.6g}")


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
