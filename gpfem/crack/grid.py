"""The regular sampling grid of the crack centre line, and values of a triangle mesh at its points.

The damage (P1 on triangles) is interpolated exactly at the grid points (:meth:`SamplingGrid.locate` gives
the triangle and barycentric weights of each point once; :meth:`SamplingGrid.sample` applies them to any
vertex values). :class:`GridLookup` reads the sampled grid back, bilinearly, at arbitrary points. NumPy and
SciPy only.
"""

from __future__ import annotations

import math

import numpy as np

from gpfem.mesh.size import simplex_sizes

__all__ = ["MAX_GRID_POINTS", "GridLookup", "SamplingGrid", "cell_sizes", "default_spacing"]

#: Largest number of grid points; a finer request is coarsened to this.
MAX_GRID_POINTS = 6_000_000


def cell_sizes(points: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """``h = (2 |K|)^(1/2)`` of each triangle (:func:`gpfem.mesh.size.simplex_sizes` in the plane)."""
    return simplex_sizes(np.asarray(points, dtype=float)[:, :2][np.asarray(cells, dtype=np.int64)])


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


class GridLookup:
    """Bilinear values of the (filled) grid at points; NaN outside the box or at an outside grid point.

    Args:
        vals: ``(ny, nx)`` grid values, finite everywhere (outside points filled).
        outside: ``(ny, nx)`` mask of the grid points outside the mesh.
        grid: The grid.
    """

    def __init__(self, vals: np.ndarray, outside: np.ndarray, grid: SamplingGrid):
        self.vals, self.outside, self.g = vals, outside, grid

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        """The values at the points ``xy`` ``(n, 2)``."""
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
