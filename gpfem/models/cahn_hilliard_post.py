"""Cahn-Hilliard pictures from the files of a run folder (``gpfem post RUN_DIR``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["post"]


def post(out_dir: Any, comm: Any = None) -> list[str]:
    """PNGs from a run folder: the final composition and the free-energy curve (rank 0 only)."""
    from gpfem.io.history import read_history
    from gpfem.io.plots import field_png, field_series, history_curve, writer_rank

    out = Path(out_dir)
    made: list[str] = []
    if not writer_rank(comm):
        return made
    pvd = field_series(out)
    if pvd is not None:
        field_png(pvd, "c", out / "c.png", cmap="RdBu_r", title="c")
        made.append("c.png")
    rows = read_history(out / "history.csv")
    if history_curve(rows, "free_energy", out / "free_energy.png", "free energy",
                     "Cahn-Hilliard free energy"):
        made.append("free_energy.png")
    return made
