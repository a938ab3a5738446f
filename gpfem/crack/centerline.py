"""The crack centre line of a 2D damage field: the ridge of ``alpha``, as polylines with branches.

A developed crack is a band of width ~ 2 ell bounded by two ``alpha = level`` iso-lines; the crack itself is
the line in its middle. It is found on a regular sampling grid of spacing ``s`` (by default half the
10%-quantile element size, i.e. half the size of the refined zone), with NumPy and SciPy only:

1. ``alpha`` (P1 on triangles) is interpolated exactly at the grid points
   (:class:`~gpfem.crack.grid.SamplingGrid`). Grid points outside the mesh (a notch slot, a hole) take the
   value of the nearest point inside, and the grid is extended beyond its box the same way, so that a band
   ending on the boundary is not forked there;
2. ``{alpha >= level}`` is thinned to a one-pixel skeleton (:mod:`gpfem.crack.skeleton`); skeleton pixels
   outside the mesh are dropped;
3. the skeleton becomes a tree and terminal branches shorter than ``prune_length`` are cut;
4. the main path runs from the skeleton point nearest ``origin`` (the notch tip) to the end farthest from
   it along the tree: that end is the crack tip; the remaining branches hang off the paths they leave;
   each path is moved onto the ridge of ``alpha`` and its free ends continued while ``alpha >= level``;
5. every polyline is smoothed twice with ``[1, 2, 1] / 4`` (ends fixed) and measured.

Without an ``origin``, the path starts at the skeleton end nearest the boundary (a crack grows from a
notch or an edge). 3D is not handled (the caller says so).

:func:`extract_centerline` works on a sampled grid, so the same code serves a running simulation (each rank
samples its own cells, a ``MAX`` reduction assembles the grid on rank 0: see
:mod:`gpfem.models.fracture_crack`) and the post-processing of written fields (:func:`centerline_from_mesh`,
:func:`gpfem.io.crack_files.centerline_series`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gpfem.crack.grid import GridLookup, SamplingGrid, cell_sizes, default_spacing
from gpfem.crack.skeleton import degree, prune_spurs, skeleton_tree, thin, tree_path

__all__ = ["Centerline", "centerline_from_mesh", "extract_centerline", "path_angle", "point_at"]


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


def _normals(P: np.ndarray, k: int = 2) -> np.ndarray:
    n = len(P)
    i = np.arange(n)
    T = P[np.minimum(i + k, n - 1)] - P[np.maximum(i - k, 0)]
    T /= np.maximum(np.linalg.norm(T, axis=1, keepdims=True), 1e-300)
    return np.column_stack([-T[:, 1], T[:, 0]])


def _to_ridge(P: np.ndarray, look: GridLookup, half_width: float, ds: float, tol: float = 1e-6) -> np.ndarray:
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


def _extend(P: np.ndarray, look: GridLookup, level: float, ds: float, reach: float, k: int = 4,
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
    sk[r0:r1, c0:c1] = thin(mask[r0:r1, c0:c1])
    # 2. back to the grid; drop skeleton pixels outside the mesh
    sk = sk[pad:pad + grid.ny, pad:pad + grid.nx] & ~outside
    if not sk.any():
        return res
    # 3. tree, pruning
    pix, t = skeleton_tree(sk, grid.sx, grid.sy)
    keep = prune_spurs(t, prune_length) if prune_length > 0 else np.ones(len(pix), dtype=bool)
    pix, t = pix[keep], t[keep][:, keep].tocsr()
    xy = grid.coordinates(pix[:, 0], pix[:, 1])
    deg = degree(t)
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
    look = GridLookup(vals, outside, grid)
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
            nodes = tree_path(pred, root, far) if far != root else [root]
            used[nodes] = True
            pts = _to_ridge(xy[nodes], look, half, ds)
            pts = _extend(pts, look, level, ds, reach)        # the free end, to where alpha < level
            if parent is None:
                toward = np.asarray(origin, dtype=float) if (origin is not None and rank == 0) else None
                pts = _extend(pts[::-1], look, level, ds, reach, toward=toward)[::-1]
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
