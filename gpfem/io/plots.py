"""PNG snapshots (pyvista off-screen, read back from the written ``.pvd``) and line plots (matplotlib).

Plots are made from the files a run leaves, so ``gpfem post RUN_DIR`` can remake them for a finished or a
stopped run.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "category_png",
    "field_png",
    "field_series",
    "history_curve",
    "line_plot",
    "read_series",
    "scalar_bar_args",
    "writer_rank",
]


def _pyvista() -> Any:
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")
    import pyvista

    pyvista.OFF_SCREEN = True
    return pyvista


def field_series(run_dir: str | Path, name: str = "fields") -> Path | None:
    """The ``.pvd`` field series of a run folder (``None`` if it wrote none).

    ``<name>.pvd`` since the index is rewritten at every output; a folder of an older gpfem may hold only
    ``<name>_restart<k>.pvd`` files, then the newest of those.
    """
    d = Path(run_dir)
    if (d / f"{name}.pvd").exists():
        return d / f"{name}.pvd"
    older = sorted(d.glob(f"{name}*.pvd"), key=lambda q: q.stat().st_mtime)
    return older[-1] if older else None


def read_series(pvd: str | Path, index: int = -1) -> tuple[Any, float]:
    """Read one time of a ``.pvd`` series with pyvista; return ``(mesh, time)`` (blocks merged)."""
    pv = _pyvista()
    reader = pv.get_reader(str(pvd))
    times = list(reader.time_values)
    t = times[index] if times else 0.0
    if times:
        reader.set_active_time_value(t)
    data = reader.read()
    while isinstance(data, pv.MultiBlock):
        data = data.combine() if data.n_blocks > 1 else data[0]
    return data, float(t)


#: Pixel size of the field pictures.
_WINDOW = (1000, 800)


def scalar_bar_args(title: str, window_width: int = _WINDOW[0], font_size: int = 18) -> dict[str, Any]:
    """A vertical colour bar at the right with room for its whole title (pyvista ``scalar_bar_args``).

    VTK centres the title over the bar and cuts whatever passes the window's edge: with pyvista's default
    place (``position_x = 0.9``) "damage alpha" came out as "damage alph". The bar is moved left by half the
    title's estimated width (0.62 em per character, a bound for the default sans-serif font).
    """
    bar_w = 0.06
    text_w = 0.62 * font_size * len(title) / window_width
    x = 1.0 - 0.02 - max(text_w, bar_w) / 2 - bar_w / 2
    return {"title": title, "vertical": True, "position_x": x, "position_y": 0.2, "width": bar_w,
            "height": 0.6, "title_font_size": font_size, "label_font_size": 16}


def field_png(
    pvd: str | Path,
    field: str,
    png: str | Path,
    index: int = -1,
    cmap: str = "viridis",
    clim: tuple[float, float] | None = None,
    title: str | None = None,
    show_edges: bool = False,
    overlay: Any | None = None,
    categories: Sequence[str] | None = None,
) -> Path:
    """Render ``field`` at one time of a series to a PNG (2D: top view; 3D: isometric)."""
    pv = _pyvista()
    grid, t = read_series(pvd, index)
    if field not in grid.point_data and field not in grid.cell_data:
        have = list(grid.point_data) + list(grid.cell_data)
        raise KeyError(f"field '{field}' not in {pvd} (has {have})")
    p = pv.Plotter(off_screen=True, window_size=_WINDOW)
    bar = scalar_bar_args(title or field)
    if categories:
        bar["n_labels"] = len(categories)
    p.add_mesh(grid, scalars=field, cmap=cmap, clim=clim, show_edges=show_edges,
               scalar_bar_args=bar)
    if overlay is not None:
        p.add_mesh(overlay, color="red", line_width=4)
    bounds = grid.bounds
    is_2d = abs(bounds[5] - bounds[4]) < 1e-12
    if is_2d:
        p.view_xy()
    else:
        p.view_isometric()
    p.add_text(f"{field}  t = {t:.6g}", font_size=12)
    out = Path(png)
    p.screenshot(str(out))
    p.close()
    return out


def category_png(
    grid: Any,
    categories: Any,
    png: str | Path,
    labels: Sequence[str],
    colours: Sequence[str],
    title: str,
) -> Path:
    """Render one flat colour per cell: ``categories[i]`` in ``0..len(labels)-1`` for cell ``i`` of ``grid``.

    Args:
        grid: A pyvista mesh (e.g. from :func:`read_series`).
        categories: Integer category per cell.
        png: Output file.
        labels: Name of each category (legend).
        colours: One colour per category.
        title: Text in the picture.
    """
    import numpy as np

    pv = _pyvista()
    cells = grid.copy()
    cells.cell_data["category"] = np.asarray(categories, dtype=float)
    n = len(labels)
    p = pv.Plotter(off_screen=True, window_size=_WINDOW)
    p.add_mesh(cells, scalars="category", cmap=list(colours[:n]), clim=(-0.5, n - 0.5), n_colors=n,
               preference="cell", annotations={float(k): lab for k, lab in enumerate(labels)},
               scalar_bar_args={"title": "", "n_labels": 0, "vertical": True})
    b = cells.bounds
    if abs(b[5] - b[4]) < 1e-12:
        p.view_xy()
    else:
        p.view_isometric()
    p.add_text(title, font_size=12)
    out = Path(png)
    p.screenshot(str(out))
    p.close()
    return out


def line_plot(
    x: Sequence[float],
    ys: dict[str, Sequence[float]],
    png: str | Path,
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    logy: bool = False,
    title: str = "",
) -> Path:
    """A simple line plot of one or more series against ``x``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    for label, y in ys.items():
        ax.plot(x, y, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if len(ys) > 1:
        ax.legend()
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)
    return Path(png)


def writer_rank(comm: Any) -> bool:
    """Wait for every rank (files complete), then True on the rank that makes the plots (rank 0)."""
    if comm is None:
        return True
    comm.barrier()
    return comm.rank == 0


def history_curve(
    rows: Sequence[dict[str, str]], column: str, png: str | Path, label: str, title: str,
    x: str = "time",
) -> Path | None:
    """``column`` of a history against ``x`` (log x, points with x > 0); ``None`` if there are none."""
    pts = [(float(r[x]), float(r[column])) for r in rows if float(r[x]) > 0]
    if not pts:
        return None
    xs, ys = zip(*pts, strict=True)
    return line_plot(xs, {label: ys}, png, x, label, logx=True, title=title)
