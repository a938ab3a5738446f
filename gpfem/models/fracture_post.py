"""Fracture results from the files of a run folder: crack path, damage picture, force-displacement curve.

Reads only the run folder (``params.json``, ``history.csv``, ``fields.pvd``), so it works on a finished or
a stopped run (``gpfem post RUN_DIR``). Writes through :mod:`gpfem.io`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["crack_summary", "post"]


def crack_summary(out: Path, comm: Any) -> dict[str, Any]:
    """The values of ``crack_path.json`` (written by :func:`post`), the same on every rank."""
    data = None
    if comm.rank == 0:
        f = Path(out) / "crack_path.json"
        if f.exists():
            data = json.loads(f.read_text())
    return comm.bcast(data or {}, root=0)


def post(out_dir: Any, comm: Any = None, write_pngs: bool = True) -> list[str]:
    """Crack path (VTP, CSV, JSON), damage PNG with the path, force-displacement PNG (rank 0 only)."""
    from gpfem.io.crack_path import extract_crack_path
    from gpfem.io.history import read_history
    from gpfem.io.plots import field_png, field_series, line_plot, writer_rank
    from gpfem.io.summary import write_json

    out = Path(out_dir)
    made: list[str] = []
    if not writer_rank(comm):
        return made
    params = json.loads((out / "params.json").read_text())["parameters"]
    pvd = field_series(out)
    if pvd is not None:
        info, overlay = extract_crack_path(pvd, "alpha", params.get("crack_level", 0.5), out)
        write_json(out / "crack_path.json", info)
        made += [v for k, v in info.items() if k.endswith("_file") and v] + ["crack_path.json"]
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
            line_plot(u, {"gpfem": f}, out / "force_displacement.png", "imposed displacement",
                      "reaction force", title="force-displacement")
            made.append("force_displacement.png")
    return made
