"""The crack centre line of a 2D damage field: the ridge of ``alpha``, as polylines with branches.

A developed crack is a band of width ~ 2 ell bounded by two ``alpha = level`` iso-lines; the crack itself is
the line in its middle. It is found on a regular sampling grid of spacing ``s`` (by default half the
10%-quantile element size, i.e. half the size of the refined zone), with NumPy and SciPy only:

1. ``alpha`` (P1 on triangles) is interpolated exactly at the grid points (:class:`SamplingGrid`). Grid
   points outside the mesh (a notch slot, a hole) take the value of the nearest point inside, and the grid
   is extended beyond its box the same way, so that a band ending on the boundary is not forked there;
2. ``{alpha >= level}`` is thinned to a one-pixel skeleton (the two-sub-iteration thinning of Zhang & Suen,
   CACM 1984, vectorised over the grid); skeleton pixels outside the mesh are dropped;
3. the skeleton becomes a tree (8-neighbour graph, minimum spanning tree: no staircase loops), and terminal
   branches shorter than ``prune_length`` (the thinning's spurs at blunt ends and notch flanks) are cut;
4. the main path runs from the skeleton point nearest ``origin`` (the notch tip) to the end farthest from
   it along the tree: that end is the crack tip; the remaining branches hang off the paths they leave;
5. every polyline is smoothed twice with ``[1, 2, 1] / 4`` (ends fixed) and measured.

Without an ``origin``, the path starts at the skeleton end nearest the boundary (a crack grows from a
notch or an edge). 3D is not handled (the caller says so).

:func:`extract_centerline` works on a sampled grid, so the same code serves a running simulation (each rank
samples its own cells, a ``MAX`` reduction assembles the grid on rank 0: see
:mod:`gpfem.models.fracture_crack`) and the post-processing of written fields (:func:`centerline_from_mesh`).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "Centerline",
    "SamplingGrid",
    "cell_sizes",
    "centerline_from_mesh",
    "centerline_series",
    "default_spacing",
    "extract_centerline",
    "path_angle",
    "point_at",
    "triangles",
    "write_centerline_csv",
    "write_centerline_vtp",
]

#: Largest number of grid points; a finer request is coarsened to this.
MAX_GRID_POINTS = 6_000_000


def cell_sizes(points: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """``h = (2 |K|)^(1/2)`` of each triangle (the leg of the right triangle of the same area)."""
    p = np.asarray(points, dtype=float)[:, :2]
    a, b, c = p[cells[:, 0]], p[cells[:, 1]], p[cells[:, 2]]
    area2 = np.abs((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))
    return np.sqrt(area2)


def default_spacing(sizes: np.ndarray, q: float = 0.1) -> float:
    """Half the ``q``-quantile of the cell sizes: two grid points per element of the refined zone."""
    return 0.5 * float(np.quantile(np.asarray(sizes, dtype=float), q))


class SamplingGrid:
    """A regular grid over a box, and the exact P1 interpolation of triangle-mesh values at its points.

    Args:
        bbox: ``(xmin, xmax, ymin, ymax)``.
        spacing: Requested spacing; the grid has ``ceil(width / spacing) + 1`` points along each side (so
            its first and last rows and columns lie on the box's sides); coarsened if that would exceed
            :data:`MAX_GRID_POINTS`.
    """

    def __init__(self, bbox: tuple[float, float, float, float], spacing: float):
        x0, x1, y0, y1 = (float(v) for v in bbox)
        if not spacing > 0:
            raise ValueError(f"grid spacing must be > 0, got {spacing}")
        w, h = max(x1 - x0, spacing), max(y1 - y0, spacing)
        if (w / spacing + 1) * (h / spacing + 1) > MAX_GRID_POINTS:
            spacing = math.sqrt(w * h / MAX_GRID_POINTS) * 1.01
        self.nx = int(math.ceil(w / spacing - 1e-9)) + 1
        self.ny = int(math.ceil(h / spacing - 1e-9)) + 1
        self.x0, self.y0 = x0, y0
        self.sx, self.sy = w / (self.nx - 1), h / (self.ny - 1)
        self.spacing = spacing

    @property
    def shape(self) -> tuple[int, int]:
        """``(ny, nx)``: rows are y, columns are x."""
        return self.ny, self.nx

    def coordinates(self, iy: np.ndarray, ix: np.ndarray) -> np.ndarray:
        """Physical ``(x, y)`` of grid indices."""
        return np.column_stack([self.x0 + np.asarray(ix) * self.sx, self.y0 + np.asarray(iy) * self.sy])

    def locate(self, points: np.ndarray, cells: np.ndarray, chunk: int = 2_000_000
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Grid points inside the triangles ``cells`` of ``points``, with their barycentric weights.

        Returns:
            ``(flat_index, vertices, weights)``: the flat grid index of each located point, the three
            vertex indices of its triangle and the three weights (a point on a shared edge is kept once).
        """
        p = np.asarray(points, dtype=float)[:, :2]
        cells = np.asarray(cells, dtype=np.int64)
        out_g, out_v, out_w = [], [], []
        if cells.size:
            xy = p[cells]                                   # (nc, 3, 2)
            ix0 = np.clip(np.ceil((xy[:, :, 0].min(1) - self.x0) / self.sx - 1e-9), 0, self.nx - 1)
            ix1 = np.clip(np.floor((xy[:, :, 0].max(1) - self.x0) / self.sx + 1e-9), 0, self.nx - 1)
            iy0 = np.clip(np.ceil((xy[:, :, 1].min(1) - self.y0) / self.sy - 1e-9), 0, self.ny - 1)
            iy1 = np.clip(np.floor((xy[:, :, 1].max(1) - self.y0) / self.sy + 1e-9), 0, self.ny - 1)
            nxs = np.maximum(ix1 - ix0 + 1, 0).astype(np.int64)
            nys = np.maximum(iy1 - iy0 + 1, 0).astype(np.int64)
            counts = nxs * nys
            start = 0
            while start < len(cells):
                # a chunk of triangles with at most ~chunk candidate points
                csum = np.cumsum(counts[start:])
                stop = start + max(1, int(np.searchsorted(csum, chunk, side="right")))
                t = np.repeat(np.arange(start, stop), counts[start:stop])
                first = np.concatenate([[0], np.cumsum(counts[start:stop])[:-1]])
                k = np.arange(t.size) - np.repeat(first, counts[start:stop])
                gx = ix0[t].astype(np.int64) + k % nxs[t]
                gy = iy0[t].astype(np.int64) + k // nxs[t]
                X = self.x0 + gx * self.sx
                Y = self.y0 + gy * self.sy
                a, b, c = xy[t, 0], xy[t, 1], xy[t, 2]
                det = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
                l1 = ((X - a[:, 0]) * (c[:, 1] - a[:, 1]) - (Y - a[:, 1]) * (c[:, 0] - a[:, 0])) / det
                l2 = ((b[:, 0] - a[:, 0]) * (Y - a[:, 1]) - (b[:, 1] - a[:, 1]) * (X - a[:, 0])) / det
                l0 = 1.0 - l1 - l2
                tol = -1e-10
                inside = (l0 >= tol) & (l1 >= tol) & (l2 >= tol)
                out_g.append((gy * self.nx + gx)[inside])
                out_v.append(cells[t[inside]])
                out_w.append(np.column_stack([l0, l1, l2])[inside])
                start = stop
        if not out_g:
            return np.zeros(0, np.int64), np.zeros((0, 3), np.int64), np.zeros((0, 3))
        g = np.concatenate(out_g)
        v = np.concatenate(out_v)
        w = np.clip(np.concatenate(out_w), 0.0, 1.0)
        g, first = np.unique(g, return_index=True)
        return g, v[first], w[first]

    def sample(self, values: np.ndarray, located: tuple[np.ndarray, np.ndarray, np.ndarray],
               fill: float = np.nan) -> np.ndarray:
        """The grid ``(ny, nx)`` of the interpolated ``values`` (``fill`` where no triangle holds a point)."""
        g, v, w = located
        grid = np.full(self.nx * self.ny, fill)
        grid[g] = np.einsum("ij,ij->i", w, np.asarray(values, dtype=float)[v])
        return grid.reshape(self.ny, self.nx)


@dataclass
class Centerline:
    """A crack centre line.

    Attributes:
        branches: Polylines ``(n, 2)``; ``branches[0]`` is the main path, from the origin end to the tip;
            a branch starts at the point of the path it leaves.
        length: Total length of all branches.
        tip: ``(x, y)`` of the crack tip (NaN when there is no crack).
        start: ``(x, y)`` of the main path's first point (the end at the origin).
        path_length: Length of the main path alone.
        spacing: Grid spacing used.
    """

    branches: list[np.ndarray] = field(default_factory=list)
    length: float = 0.0
    tip: tuple[float, float] = (math.nan, math.nan)
    start: tuple[float, float] = (math.nan, math.nan)
    path_length: float = 0.0
    spacing: float = math.nan

    def bounds(self) -> list[float]:
        """``[xmin, xmax, ymin, ymax]`` of all branches (empty without a crack)."""
        if not self.branches:
            return []
        pts = np.concatenate(self.branches)
        lo, hi = pts.min(0), pts.max(0)
        return [float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])]

    def summary(self) -> dict[str, Any]:
        """JSON-ready values (the crack_path.json of ``gpfem post``)."""
        return {"crack_length_path": self.length, "crack_tip": [float(v) for v in self.tip],
                "crack_start": [float(v) for v in self.start], "main_path_length": self.path_length,
                "branches": len(self.branches), "path_bounds": self.bounds(), "grid_spacing": self.spacing}


# -- step 2: thinning -----------------------------------------------------------------------------------
def _thin(mask: np.ndarray) -> np.ndarray:
    """One-pixel skeleton of a boolean image (Zhang-Suen two-sub-iteration thinning, vectorised)."""
    img = np.pad(mask.astype(np.uint8), 1)
    core = img[1:-1, 1:-1]
    while True:
        changed = False
        for sub in (0, 1):
            # neighbours P2..P9 clockwise from north (row - 1 is "north")
            P = [img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:], img[2:, 2:],
                 img[2:, 1:-1], img[2:, :-2], img[1:-1, :-2], img[:-2, :-2]]
            B = sum(q.astype(np.int16) for q in P)
            A = sum(((P[i] == 0) & (P[(i + 1) % 8] == 1)).astype(np.int16) for i in range(8))
            p2, p4, p6, p8 = P[0], P[2], P[4], P[6]
            if sub == 0:
                c = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                c = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            delete = (core == 1) & (B >= 2) & (B <= 6) & (A == 1) & c
            if delete.any():
                core[delete] = 0
                changed = True
        if not changed:
            return core.astype(bool)


# -- step 3: the skeleton as a tree -----------------------------------------------------------------------
def _tree(sk: np.ndarray, sx: float, sy: float) -> tuple[np.ndarray, Any]:
    """Pixel coordinates ``(iy, ix)`` of the skeleton and its minimum spanning tree (symmetric CSR)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import minimum_spanning_tree

    iy, ix = np.nonzero(sk)
    n = iy.size
    ids = np.full(sk.shape, -1, dtype=np.int64)
    ids[iy, ix] = np.arange(n)
    rows, cols, wts = [], [], []
    ny, nx = sk.shape
    diag = math.hypot(sx, sy)
    for dy, dx, w in ((0, 1, sx), (1, 0, sy), (1, 1, diag), (1, -1, diag)):
        x0, x1 = max(0, -dx), nx - max(0, dx)
        a = ids[0:ny - dy, x0:x1]
        b = ids[dy:ny, x0 + dx:x1 + dx]
        both = (a >= 0) & (b >= 0)
        rows.append(a[both])
        cols.append(b[both])
        wts.append(np.full(int(both.sum()), w))
    r, c, wt = np.concatenate(rows), np.concatenate(cols), np.concatenate(wts)
    g = coo_matrix((wt, (r, c)), shape=(n, n)).tocsr()
    t = minimum_spanning_tree(g)
    t = (t + t.T).tocsr()
    return np.column_stack([iy, ix]), t


def _degree(t: Any) -> np.ndarray:
    return np.diff(t.indptr)


def _prune(t: Any, prune_length: float, max_rounds: int = 8) -> np.ndarray:
    """Keep-mask of the tree's nodes after cutting terminal branches shorter than ``prune_length``."""
    from scipy.sparse.csgraph import connected_components

    n = t.shape[0]
    keep = np.ones(n, dtype=bool)
    for _ in range(max_rounds):
        sub = t[keep][:, keep].tocsr()
        idx = np.nonzero(keep)[0]
        deg = _degree(sub)
        junction = deg >= 3
        if not junction.any():
            break
        coo = sub.tocoo()
        free = ~junction
        # components of the tree with the junctions removed
        inner = (free[coo.row]) & (free[coo.col])
        from scipy.sparse import coo_matrix

        m = coo_matrix((coo.data[inner], (coo.row[inner], coo.col[inner])), shape=sub.shape)
        _, lab = connected_components(m, directed=False)
        lab = np.where(free, lab, -1)
        nl = int(lab.max()) + 1 if free.any() else 0
        if nl == 0:
            break
        length = np.bincount(lab[coo.row[inner]], weights=coo.data[inner], minlength=nl) / 2.0
        to_j = free[coo.row] & junction[coo.col]
        length += np.bincount(lab[coo.row[to_j]], weights=coo.data[to_j], minlength=nl)
        touches = np.bincount(lab[coo.row[to_j]], minlength=nl) > 0
        has_end = np.bincount(lab[free & (deg <= 1)], minlength=nl) > 0
        cut = touches & has_end & (length < prune_length)
        if not cut.any():
            break
        drop = free & cut[np.maximum(lab, 0)]
        keep[idx[drop]] = False
    return keep


def _path(pred: np.ndarray, src: int, dst: int) -> list[int]:
    out = [dst]
    while out[-1] != src:
        out.append(int(pred[out[-1]]))
    return out[::-1]


def _smooth_length(pts: np.ndarray, passes: int = 8, every: int = 4) -> tuple[np.ndarray, float]:
    """Smoothed polyline and its length.

    ``[1, 2, 1] / 4`` ``passes`` times (ends fixed; about a Gaussian of ``sqrt(passes / 2)`` points, i.e.
    one element size): the ridge of a P1 field wanders by up to half an element from node to node, which
    would add 1-2% to the length of an oblique path. The length is measured on every ``every``-th point
    (chord error ``(every * s)^2 / (24 R^2)`` on a path of curvature radius R).
    """
    q = pts.astype(float).copy()
    for _ in range(passes):
        if len(q) >= 3:
            q[1:-1] = 0.25 * q[:-2] + 0.5 * q[1:-1] + 0.25 * q[2:]
    if len(q) < 2:
        return q, 0.0
    idx = np.unique(np.concatenate([np.arange(0, len(q), every), [len(q) - 1]]))
    return q, float(np.linalg.norm(np.diff(q[idx], axis=0), axis=1).sum())


class _Lookup:
    """Bilinear values of the (filled) grid at points; NaN outside the box or at an outside grid point."""

    def __init__(self, vals: np.ndarray, outside: np.ndarray, grid: SamplingGrid):
        self.vals, self.outside, self.g = vals, outside, grid

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        from scipy.ndimage import map_coordinates

        g = self.g
        fy = (xy[:, 1] - g.y0) / g.sy
        fx = (xy[:, 0] - g.x0) / g.sx
        v = map_coordinates(self.vals, [fy, fx], order=1, mode="nearest")
        iy = np.clip(np.rint(fy).astype(np.int64), 0, g.ny - 1)
        ix = np.clip(np.rint(fx).astype(np.int64), 0, g.nx - 1)
        eps = 1e-9
        off = (fy < -eps) | (fy > g.ny - 1 + eps) | (fx < -eps) | (fx > g.nx - 1 + eps) | self.outside[iy, ix]
        return np.where(off, np.nan, v)


def _normals(P: np.ndarray, k: int = 2) -> np.ndarray:
    n = len(P)
    i = np.arange(n)
    T = P[np.minimum(i + k, n - 1)] - P[np.maximum(i - k, 0)]
    T /= np.maximum(np.linalg.norm(T, axis=1, keepdims=True), 1e-300)
    return np.column_stack([-T[:, 1], T[:, 0]])


def _to_ridge(P: np.ndarray, look: _Lookup, half_width: float, ds: float, tol: float = 1e-6) -> np.ndarray:
    """Move each point across the path to the damage maximum, sampled every ``ds`` along the normal.

    A P1 field is piecewise linear along the normal, so its maximum sits on a mesh edge (a kink: no parabola
    fits it) and the largest sample is within ``ds / 2`` of it; a plateau (samples within ``tol`` of the
    maximum, e.g. alpha = 1 at the bound) gives its middle.
    """
    if len(P) < 2:
        return P
    N = _normals(P)
    offs = np.arange(-half_width, half_width + 0.5 * ds, ds)
    Q = P[:, None, :] + offs[None, :, None] * N[:, None, :]
    V = look(Q.reshape(-1, 2)).reshape(len(P), len(offs))
    V = np.where(np.isfinite(V), V, -np.inf)
    rows = np.arange(len(P))
    j = np.argmax(V, axis=1)
    vmax = V[rows, j]
    near = V >= (vmax - tol)[:, None]
    run = np.cumsum(~near, axis=1)                      # a plateau's samples share a label
    inrun = near & (run == run[rows, j][:, None])
    count = inrun.sum(1)
    shift = (inrun * offs[None, :]).sum(1) / np.maximum(count, 1)
    shift = np.where(np.isfinite(vmax), shift, 0.0)
    return P + shift[:, None] * N


def _extend(P: np.ndarray, look: _Lookup, level: float, ds: float, reach: float, k: int = 4,
            toward: np.ndarray | None = None) -> np.ndarray:
    """Continue the path beyond its last point, straight on, while the damage stays >= ``level``.

    With ``toward``, only while the distance to that point decreases (the path does not pass its origin).
    """
    if len(P) < 2:
        return P
    D = P[-1] - P[max(len(P) - 1 - k, 0)]
    nd = float(np.linalg.norm(D))
    if nd == 0.0:
        return P
    steps = P[-1] + (np.arange(1, int(math.ceil(reach / ds)) + 1) * ds)[:, None] * (D / nd)
    ok = look(steps) >= level
    if toward is not None:
        d = np.linalg.norm(np.vstack([P[-1:], steps]) - toward, axis=1)
        ok &= np.diff(d) < 0
    n_ok = int(np.argmin(ok)) if not ok.all() else len(ok)
    return np.vstack([P, steps[:n_ok]]) if n_ok else P


def extract_centerline(
    values: np.ndarray,
    grid: SamplingGrid,
    level: float = 0.5,
    prune_length: float = 0.0,
    origin: tuple[float, float] | None = None,
) -> Centerline:
    """The centre line of ``{values >= level}`` on a sampled grid.

    Args:
        values: ``(ny, nx)`` grid of the damage, NaN outside the mesh.
        grid: The grid.
        level: Damage level of the band whose centre line is taken.
        prune_length: Terminal branches shorter than this are cut (e.g. 2 ell).
        origin: Where the crack starts (a notch tip); ``None``: the skeleton end nearest the boundary.

    Returns:
        The :class:`Centerline` (empty, length 0 and a NaN tip, when no value reaches ``level``).
    """
    from scipy import ndimage
    from scipy.sparse import diags
    from scipy.sparse.csgraph import connected_components, dijkstra

    vals = np.asarray(values, dtype=float)
    outside = ~np.isfinite(vals)
    res = Centerline(spacing=min(grid.sx, grid.sy))
    if outside.all() or not (np.where(outside, -np.inf, vals) >= level).any():
        return res
    # 1. outside points take the nearest inside value; extend the grid beyond its box the same way
    if outside.any():
        _, (jy, jx) = ndimage.distance_transform_edt(outside, sampling=(grid.sy, grid.sx),
                                                     return_indices=True)
        vals = vals[jy, jx]
    pad = int(math.ceil(max(prune_length, 3 * res.spacing) / res.spacing)) + 2
    mask = np.pad(vals >= level, pad, mode="edge")
    # crop to the band (plus a margin) for the thinning
    ys, xs = np.nonzero(mask)
    r0, r1 = max(ys.min() - 2, 0), min(ys.max() + 3, mask.shape[0])
    c0, c1 = max(xs.min() - 2, 0), min(xs.max() + 3, mask.shape[1])
    sk = np.zeros_like(mask)
    sk[r0:r1, c0:c1] = _thin(mask[r0:r1, c0:c1])
    # 2. back to the grid; drop skeleton pixels outside the mesh
    sk = sk[pad:pad + grid.ny, pad:pad + grid.nx] & ~outside
    if not sk.any():
        return res
    # 3. tree, pruning
    pix, t = _tree(sk, grid.sx, grid.sy)
    keep = _prune(t, prune_length) if prune_length > 0 else np.ones(len(pix), dtype=bool)
    pix, t = pix[keep], t[keep][:, keep].tocsr()
    xy = grid.coordinates(pix[:, 0], pix[:, 1])
    deg = _degree(t)
    ncomp, comp = connected_components(t, directed=False)
    # distance of each node to the boundary of the mesh/box (for the default origin)
    inside = np.pad(~outside, 1, constant_values=False)
    dist = ndimage.distance_transform_edt(inside, sampling=(grid.sy, grid.sx))[1:-1, 1:-1]
    dnode = dist[pix[:, 0], pix[:, 1]]
    # 4. main path of each component: from its root to the farthest node; the origin's component first
    roots = []
    for k in range(ncomp):
        nodes = np.nonzero(comp == k)[0]
        ends = nodes[deg[nodes] <= 1]
        cand = ends if ends.size else nodes
        roots.append(int(cand[np.argmin(dnode[cand])]))
    order = list(range(ncomp))
    if origin is not None:
        o = np.asarray(origin, dtype=float)
        r = int(np.argmin(np.linalg.norm(xy - o, axis=1)))
        roots[comp[r]] = r
        order.remove(int(comp[r]))
        order.insert(0, int(comp[r]))
    else:  # the largest component first
        sizes = np.bincount(comp, minlength=ncomp)
        order.sort(key=lambda k: -sizes[k])
    # 5. polylines on the ridge, free ends continued while alpha >= level
    look = _Lookup(vals, outside, grid)
    ds = 0.5 * res.spacing
    half = max(0.5 * prune_length, 3 * res.spacing)
    reach = max(prune_length, 6 * res.spacing)
    used = np.zeros(len(pix), dtype=bool)
    branches: list[np.ndarray] = []
    total = 0.0
    for rank, k in enumerate(order):
        stack: list[tuple[int, int | None]] = [(roots[k], None)]
        while stack:
            root, parent = stack.pop()
            free = diags((~used).astype(float))
            dd, pred = dijkstra(free @ t @ free, directed=False, indices=root, return_predecessors=True)
            dd[~np.isfinite(dd)] = -1.0
            far = int(np.argmax(dd))
            nodes = _path(pred, root, far) if far != root else [root]
            used[nodes] = True
            pts = _to_ridge(xy[nodes], look, half, ds)
            pts = _extend(pts, look, level, ds, reach)        # the free end, to where alpha < level
            if parent is None:
                to = np.asarray(origin, dtype=float) if (origin is not None and rank == 0) else None
                pts = _extend(pts[::-1], look, level, ds, reach, toward=to)[::-1]
            else:
                pts = np.vstack([xy[parent], pts])
            sm, length = _smooth_length(pts)
            if rank == 0 and parent is None:
                res.tip = (float(sm[-1, 0]), float(sm[-1, 1]))
                res.start = (float(sm[0, 0]), float(sm[0, 1]))
                res.path_length = length
            branches.append(sm)
            total += length
            # side branches: each unused neighbour of the path roots its own subtree (t is a tree)
            for nd in nodes:
                for nb in t.indices[t.indptr[nd]:t.indptr[nd + 1]]:
                    if not used[nb]:
                        stack.append((int(nb), int(nd)))
    res.branches = branches
    res.length = total
    return res


def point_at(path: np.ndarray, arc: float) -> np.ndarray:
    """The point of a polyline at arc length ``arc`` from its first point (its last point beyond its end)."""
    P = np.asarray(path, dtype=float)
    if len(P) < 2:
        return P[-1].copy()
    seg = np.linalg.norm(np.diff(P, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    return np.array([np.interp(arc, cum, P[:, 0]), np.interp(arc, cum, P[:, 1])])


def path_angle(path: np.ndarray, arc_from: float = 0.0, arc_to: float = math.inf) -> float:
    """Direction of the chord of a polyline between two arc lengths from its first point.

    In degrees from +x, counter-clockwise (negative: downwards); e.g. the kink of a crack over its first
    ``3 ell``.
    """
    a, b = point_at(path, arc_from), point_at(path, arc_to)
    return math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))


def centerline_from_mesh(
    points: np.ndarray,
    cells: np.ndarray,
    values: np.ndarray,
    level: float = 0.5,
    prune_length: float = 0.0,
    origin: tuple[float, float] | None = None,
    spacing: float | None = None,
) -> Centerline:
    """The centre line of a P1 field on a triangle mesh (one process: post-processing)."""
    pts = np.asarray(points, dtype=float)
    cells = np.asarray(cells, dtype=np.int64)
    if spacing is None or spacing <= 0:
        spacing = default_spacing(cell_sizes(pts, cells))
    bbox = (pts[:, 0].min(), pts[:, 0].max(), pts[:, 1].min(), pts[:, 1].max())
    grid = SamplingGrid(bbox, spacing)
    vals = grid.sample(values, grid.locate(pts, cells))
    return extract_centerline(vals, grid, level, prune_length, origin)


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
