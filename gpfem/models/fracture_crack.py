"""The crack centre line during a fracture run: its length and tip at every load step, MPI-correct.

Each rank interpolates the damage of its owned triangles at the points of one global sampling grid
(:class:`~gpfem.crack.grid.SamplingGrid`, located once); one ``MPI_Reduce(MAX)`` assembles the
grid on rank 0, which extracts the centre line (:func:`~gpfem.crack.centerline.extract_centerline`) and
broadcasts length and tip. The grid, its spacing and the located points depend only on the global mesh,
so 1 and N ranks measure the same grid. 2D triangle meshes only; on other meshes the columns are NaN
(said once in the log).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from gpfem.base.log import get_logger
from gpfem.crack import Centerline, SamplingGrid, cell_sizes, default_spacing, extract_centerline

__all__ = ["CRACK_COLUMNS", "CrackTracker", "crack_origin"]

#: History columns the tracker adds.
CRACK_COLUMNS = ["crack_length", "crack_tip_x", "crack_tip_y"]

log = get_logger("fracture")


def crack_origin(p: Mapping[str, Any], mesh_source: str = "") -> tuple[float, float] | None:
    """Where the crack starts: ``crack_origin`` if given, else the notch tip of the built-in notched plate."""
    if p.get("crack_origin"):
        x, y = p["crack_origin"][:2]
        return float(x), float(y)
    if p.get("geometry") == "notched" and str(mesh_source).startswith("notched_plate"):
        return float(p["notch_length"]), 0.5 * float(p["L"])
    return None


class CrackTracker:
    """Length and tip of the crack centre line of a P1 damage field, on every rank.

    Args:
        alpha: The damage (scalar P1 ``fem.Function``).
        level: Damage level of the band whose centre line is taken (``crack_level``).
        prune_length: Side branches shorter than this are thinning artefacts (2 ell).
        origin: Where the crack starts (the notch tip), or ``None``.
        spacing: Grid spacing; 0: half the 10%-quantile element size of the whole mesh.
    """

    def __init__(self, alpha: Any, level: float, prune_length: float,
                 origin: tuple[float, float] | None = None, spacing: float = 0.0):
        self.level = level
        self.prune_length = prune_length
        self.origin = origin
        self.requested_spacing = spacing
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.calls = 0
        self.last: Centerline | None = None  # rank 0
        self._space = None
        self._setup(alpha)

    def _setup(self, alpha: Any) -> None:
        from mpi4py import MPI

        from scipy import ndimage, sparse  # noqa: F401  (imported here, not in the first timed call)
        from scipy.sparse import csgraph  # noqa: F401

        V = alpha.function_space
        msh = V.mesh
        self._space = V
        self.comm = msh.comm
        self.enabled = msh.geometry.dim == 2 and msh.topology.cell_name() == "triangle" \
            and V.dofmap.index_map_bs == 1 and V.dofmap.list.shape[1] == 3
        if not self.enabled:
            log.info("crack centre line: 2D triangle meshes and P1 damage only; crack_length/crack_tip "
                     "columns are NaN")
            return
        n = msh.topology.index_map(2).size_local
        xy = msh.geometry.x[msh.geometry.dofmaps[0][:n]][:, :, :2]       # (n, 3, 2)
        self._dofs = np.asarray(V.dofmap.list[:n], dtype=np.int64).ravel()
        pts = xy.reshape(-1, 2)
        lo = pts.min(0) if n else np.full(2, np.inf)
        hi = pts.max(0) if n else np.full(2, -np.inf)
        glo, ghi = np.empty(2), np.empty(2)
        self.comm.Allreduce(np.ascontiguousarray(lo, dtype=float), glo, op=MPI.MIN)
        self.comm.Allreduce(np.ascontiguousarray(hi, dtype=float), ghi, op=MPI.MAX)
        lo, hi = glo, ghi
        s = self.requested_spacing
        if not s > 0:
            sizes = cell_sizes(pts, np.arange(3 * n).reshape(n, 3))
            gathered = self.comm.gather(sizes, root=0)
            s0 = default_spacing(np.concatenate(gathered)) if self.comm.rank == 0 else None
            s = self.comm.bcast(s0, root=0)
        self.grid = SamplingGrid((lo[0], hi[0], lo[1], hi[1]), s)
        self._located = self.grid.locate(pts, np.arange(3 * n).reshape(n, 3))

    def measure(self, alpha: Any) -> dict[str, float]:
        """``crack_length``, ``crack_tip_x``, ``crack_tip_y`` of ``alpha`` (collective, same on all ranks)."""
        from mpi4py import MPI

        if alpha.function_space is not self._space:      # the mesh changed (adaptivity): locate again
            self._setup(alpha)
        if not self.enabled:
            return {k: math.nan for k in CRACK_COLUMNS}
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            if alpha.x.petsc_vec.max()[1] < self.level:  # no crack yet (a global max: same on all ranks)
                return {"crack_length": 0.0, "crack_tip_x": math.nan, "crack_tip_y": math.nan}
            local = self.grid.sample(alpha.x.array[self._dofs], self._located, fill=-np.inf).ravel()
            glob = np.empty_like(local) if self.comm.rank == 0 else None
            self.comm.Reduce(local, glob, op=MPI.MAX, root=0)
            out = None
            if glob is not None:  # rank 0
                vals = np.where(np.isfinite(glob), glob, np.nan).reshape(self.grid.shape)
                cl = extract_centerline(vals, self.grid, self.level, self.prune_length, self.origin)
                self.last = cl
                out = {"crack_length": cl.length, "crack_tip_x": cl.tip[0], "crack_tip_y": cl.tip[1]}
            return self.comm.bcast(out, root=0)
        finally:
            self.seconds += time.perf_counter() - t0
            self.cpu_seconds += time.process_time() - c0
            self.calls += 1
