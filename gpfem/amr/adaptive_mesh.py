"""The mesh of an adaptive run: base mesh, current mesh, cell levels, and the limits on both.

Two ways to adapt, both collective:

* :meth:`AdaptiveMesh.refine` — **nested**: refine the current mesh where asked. Fields move exactly (the
  old P1 space is a subspace of the new one). Used where nothing must be coarsened and nothing may be lost:
  fracture (a crack never heals, so the refined zone only grows).
* :meth:`AdaptiveMesh.rebuild` — **re-refine from the base mesh**: level by level, mark the cells of the
  intermediate mesh from the current solution and refine, until no cell below ``max_levels`` is marked.
  Where an interface has
  passed, the new mesh is simply not refined there any more: coarsening without a coarsening algorithm
  (DOLFINx has none), a mesh that depends only on the solution (not on the history of adapts), and
  ``max_levels`` passes of ``refine`` per adapt. Fields then move by non-nested interpolation, so
  conserved quantities need :func:`~gpfem.amr.transfer.conserve_integral`. Used for Cahn-Hilliard.

Limits: a cell is marked only while its level is below ``max_levels`` and its size ``h_K`` above ``h_min``;
``buffer`` rings of neighbours are added around the marked cells (refinement *ahead* of a moving front);
when a pass would exceed ``max_dofs``, only the marks with the highest priority are kept (the candidates'
priorities are gathered, the threshold is the same on every rank), and :attr:`AdaptiveMesh.limited` says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gpfem.amr.indicators import dilate, num_owned_cells
from gpfem.amr.refine import Refinement, global_count, refine_cells
from gpfem.base.errors import ParameterError
from gpfem.mesh import MeshBundle
from gpfem.mesh.size import cell_sizes

__all__ = ["AdaptiveMesh", "AmrLimits"]

#: Priority given to buffer cells: below any real mark, so the DOF limit drops them first.
BUFFER_PRIORITY = 1e-300


@dataclass
class AmrLimits:
    """Limits of the refinement.

    Attributes:
        max_levels: Most times a cell's ancestors may have been marked (0: no refinement).
        max_dofs: Most global degrees of freedom (vertices x ``dofs_per_vertex``; 0: no limit).
        dofs_per_vertex: Unknowns per vertex of the model (3 for 2D fracture: u_x, u_y, alpha).
        h_min: Cells with ``h_K <= h_min`` are not marked (0: no bound).
        buffer: Rings of vertex neighbours added around the marked cells.
        bisect: Split marked cells by their longest edge (``h_K / sqrt 2`` per level) instead of into four
            (``h_K / 2``): finer steps, so cells end closer to ``h_min`` from below.
    """

    max_levels: int = 2
    max_dofs: int = 0
    dofs_per_vertex: int = 1
    h_min: float = 0.0
    buffer: int = 1
    bisect: bool = False

    def __post_init__(self) -> None:
        for name in ("max_levels", "max_dofs", "buffer"):
            if getattr(self, name) < 0:
                raise ParameterError(f"amr_{name}", f"must be >= 0, got {getattr(self, name)}")
        if self.dofs_per_vertex < 1:
            raise ParameterError("dofs_per_vertex", "must be >= 1")
        if self.h_min < 0:
            raise ParameterError("amr_h_min", f"must be >= 0, got {self.h_min}")


def num_dofs(bundle: MeshBundle, per_vertex: int = 1) -> int:
    """Global vertex count times ``per_vertex``."""
    return int(bundle.mesh.geometry.index_map().size_global) * per_vertex


def _threshold(comm: Any, values: np.ndarray, keep: int) -> float:
    """The value such that the ``keep`` largest of all ranks' ``values`` are ``>=`` it (on every rank)."""
    allv = np.sort(np.concatenate(comm.allgather(np.asarray(values, dtype=float))))[::-1]
    if keep <= 0 or allv.size == 0:
        return np.inf
    return float(allv[min(keep, allv.size) - 1])


def _tie_breaker(mesh: Any) -> np.ndarray:
    """A number in [0, 1) per owned cell from its midpoint only (so the same on any partition).

    Indicators are often flags (every marked cell has priority 1): under the DOF cap the marks to keep are
    then chosen by this key among equal priorities, instead of keeping all or none.
    """
    from dolfinx import mesh as dmesh

    tdim = mesh.topology.dim
    mid = dmesh.compute_midpoints(mesh, tdim, np.arange(num_owned_cells(mesh), dtype=np.int32))
    scale = float(np.abs(mesh.geometry.x).max(initial=1.0)) or 1.0
    v = np.sin((mid / scale) @ np.array([12.9898, 78.233, 37.719]) * 1e3) * 43758.5453
    return v - np.floor(v)


class AdaptiveMesh:
    """The current mesh of an adaptive run.

    Args:
        base: The base mesh (level 0); :meth:`rebuild` starts from it.
        limits: Refinement limits.
        bundle: The current mesh (the base if ``None``, e.g. after a restart: the stored mesh).
        levels: Level per owned cell of ``bundle`` (zeros if ``None``).
    """

    def __init__(
        self,
        base: MeshBundle,
        limits: AmrLimits,
        bundle: MeshBundle | None = None,
        levels: np.ndarray | None = None,
    ):
        self.base = base
        self.limits = limits
        self.bundle = bundle if bundle is not None else base
        n = num_owned_cells(self.bundle.mesh)
        self.levels = np.zeros(n, dtype=np.int32) if levels is None else np.asarray(levels, np.int32)
        self.limited = False

    @property
    def comm(self) -> Any:
        """The communicator."""
        return self.base.comm

    def dofs(self, bundle: MeshBundle | None = None) -> int:
        """Global DOFs of ``bundle`` (default: the current mesh) with the limits' ``dofs_per_vertex``."""
        return num_dofs(bundle or self.bundle, self.limits.dofs_per_vertex)

    def max_level(self) -> int:
        """Highest cell level over all ranks."""
        from mpi4py import MPI

        return int(self.comm.allreduce(int(self.levels.max(initial=0)), op=MPI.MAX))

    # -- marking -------------------------------------------------------------------------------------------
    def allowed(self, bundle: MeshBundle, levels: np.ndarray) -> np.ndarray:
        """Owned cells that may still be marked (level and size limits)."""
        ok = levels < self.limits.max_levels
        if self.limits.h_min > 0:
            ok &= cell_sizes(bundle.mesh) > self.limits.h_min
        return ok

    def marks(
        self, bundle: MeshBundle, levels: np.ndarray, priority: np.ndarray, buffer: int | None = None
    ) -> np.ndarray:
        """Priorities after the limits and ``buffer`` rings (default: the limits'): ``> 0`` means marked."""
        pr = np.where(np.asarray(priority, dtype=float) > 0, np.asarray(priority, dtype=float), 0.0)
        ok = self.allowed(bundle, levels)
        rings = self.limits.buffer if buffer is None else buffer
        if rings > 0:
            grown = dilate(bundle.mesh, pr > 0, rings)
            pr = np.where(grown & (pr <= 0), BUFFER_PRIORITY, pr)
        return np.where(ok, pr, 0.0)

    def pending(self, priority: np.ndarray) -> int:
        """Global number of cells of the current mesh that ``priority`` marks and the limits still allow.

        Zero means the current mesh already resolves what the indicator asks for (no need to adapt).
        """
        pr = np.asarray(priority, dtype=float) > 0
        return global_count(self.comm, pr & self.allowed(self.bundle, self.levels))

    # -- one pass --------------------------------------------------------------------------------------
    def _pass(
        self, bundle: MeshBundle, levels: np.ndarray, priority: np.ndarray, buffer: int | None = None
    ) -> Refinement | None:
        comm = bundle.comm
        pr = self.marks(bundle, levels, priority, buffer)
        cand = pr > 0
        if global_count(comm, cand) == 0:
            return None
        ref = refine_cells(bundle, cand, levels, self.limits.bisect)
        cap = self.limits.max_dofs
        if cap <= 0 or self.dofs(ref.bundle) <= cap:
            return ref
        # Over the DOF cap: keep the highest priorities, shrinking the kept number by the overshoot.
        self.limited = True
        cur = self.dofs(bundle)
        keep = global_count(comm, cand)
        tie = None
        for _ in range(6):
            new = self.dofs(ref.bundle)
            if new <= cap:
                return ref
            if cap <= cur:
                return None
            keep = int(keep * 0.95 * (cap - cur) / (new - cur))
            if keep <= 0:
                return None
            if tie is None:
                tie = pr * (1.0 + 1e-3 * _tie_breaker(bundle.mesh))
            thr = _threshold(comm, tie[cand], keep)
            ref = refine_cells(bundle, cand & (tie >= thr), levels, self.limits.bisect)
        return ref if self.dofs(ref.bundle) <= cap else None

    # -- adapting --------------------------------------------------------------------------------------
    def refine(self, priority: np.ndarray) -> Refinement | None:
        """Nested: one refinement pass of the current mesh where ``priority > 0`` (collective).

        Returns:
            The refinement (the current mesh is replaced), or ``None`` if nothing was refined.
        """
        self.limited = False
        ref = self._pass(self.bundle, self.levels, priority)
        if ref is not None:
            self.bundle, self.levels = ref.bundle, ref.levels
        return ref

    def rebuild(
        self, priority_on: Callable[[MeshBundle], np.ndarray], buffer: int | None = None
    ) -> MeshBundle:
        """Re-refine from the base mesh (collective): passes until no allowed cell is marked.

        Args:
            priority_on: Called with each intermediate mesh; returns the priority per owned cell (``> 0``:
                mark), typically from the current solution interpolated onto that mesh.
            buffer: Rings added around the marks of each pass (default: the limits'); 0 when
                ``priority_on`` already includes a buffer (e.g. one measured in cells of the finest level).

        Returns:
            The new current mesh (also :attr:`bundle`).
        """
        self.limited = False
        bundle = self.base
        levels = np.zeros(num_owned_cells(bundle.mesh), dtype=np.int32)
        # Passes until nothing is marked: a cell split only by Plaza's closure keeps its level and may be
        # marked in a later pass, so max_levels passes are not always enough (bounded for safety).
        for _ in range(2 * self.limits.max_levels + 2):
            ref = self._pass(bundle, levels, priority_on(bundle), buffer)
            if ref is None:
                break
            bundle, levels = ref.bundle, ref.levels
        self.bundle, self.levels = bundle, levels
        return bundle
