"""The skeleton of a thresholded damage band as a tree, with its short spurs cut. NumPy and SciPy only.

1. ``{alpha >= level}`` is thinned to a one-pixel skeleton (:func:`thin`: the two-sub-iteration thinning of
   Zhang & Suen, CACM 1984, vectorised over the grid);
2. the skeleton becomes a tree (:func:`skeleton_tree`: 8-neighbour graph, minimum spanning tree, so no
   staircase loops);
3. terminal branches shorter than a length (the thinning's spurs at blunt ends and notch flanks) are cut
   (:func:`prune_spurs`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["degree", "prune_spurs", "skeleton_tree", "thin", "tree_path"]


def thin(mask: np.ndarray) -> np.ndarray:
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


def skeleton_tree(sk: np.ndarray, sx: float, sy: float) -> tuple[np.ndarray, Any]:
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


def degree(t: Any) -> np.ndarray:
    """Number of neighbours of each node of a symmetric CSR graph."""
    return np.diff(t.indptr)


def prune_spurs(t: Any, prune_length: float, max_rounds: int = 8) -> np.ndarray:
    """Keep-mask of the tree's nodes after cutting terminal branches shorter than ``prune_length``."""
    from scipy.sparse.csgraph import connected_components

    n = t.shape[0]
    keep = np.ones(n, dtype=bool)
    for _ in range(max_rounds):
        sub = t[keep][:, keep].tocsr()
        idx = np.nonzero(keep)[0]
        deg = degree(sub)
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


def tree_path(pred: np.ndarray, src: int, dst: int) -> list[int]:
    """The nodes from ``src`` to ``dst`` along the predecessors ``pred`` of a search from ``src``."""
    out = [dst]
    while out[-1] != src:
        out.append(int(pred[out[-1]]))
    return out[::-1]
