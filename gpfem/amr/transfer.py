r"""Moving P1 fields from one mesh to another: interpolation, exact mass, irreversibility.

* **Interpolation** (:func:`transfer`): the new function takes the old one's values at its degrees of freedom
  (``interpolate_nonmatching``: points are located in the old mesh across ranks). When the new mesh is a
  refinement of the old one (nested), the old P1 space is a subspace of the new one and the transfer is the
  identity on functions: values, integrals, energies and bounds are kept to round-off.
* **Exact mass after a non-nested transfer** (:func:`conserve_integral`): when a region is coarsened the
  interpolant loses mass of the order of the interpolation error. The correction adds the constant
  ``(m_old - m_new)/|Omega|``: of all fields with the old mass it is the one closest to the interpolant in
  L2 (the L2-orthogonal projection onto the affine set ``{integral = m_old}``; constants are in P1), so it
  changes nothing else more than it must, and the mass is restored to round-off.
* **Irreversibility** (:func:`transfer_bounded`): the damage and its lower bound (the last accepted damage)
  are moved together and the new damage is ``max(alpha, bound)`` pointwise, so ``alpha >= bound`` holds on
  the new mesh whatever the transfer. With nested refinement both are exact and the max changes nothing;
  damage then never decreases anywhere across an adapt.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from gpfem.amr.indicators import num_owned_cells
from gpfem.base.errors import GpfemError

if TYPE_CHECKING:
    from dolfinx import fem
    from dolfinx import mesh as dmesh

__all__ = ["Transfer", "conserve_integral", "locate_local", "transfer", "transfer_all", "transfer_bounded"]


def locate_local(mesh: dmesh.Mesh, points: np.ndarray) -> np.ndarray:
    """For each point (shape ``(n, 3)``), a local cell of ``mesh`` that contains it, or -1 (no communication).

    Candidates come from a bounding-box tree; the containment test is vectorised with barycentric
    coordinates (affine simplices), accepting ``lambda >= -1e-10`` so that points on shared facets, which
    refinement puts there up to round-off, get one of their cells (P1 fields are continuous there).
    """
    from dolfinx import geometry

    tdim = mesh.topology.dim
    n = num_owned_cells(mesh)
    pts = np.ascontiguousarray(points, dtype=mesh.geometry.x.dtype)
    first = np.full(pts.shape[0], -1, dtype=np.int32)
    if n == 0 or pts.shape[0] == 0:
        return first
    x = mesh.geometry.x
    size = float(np.max(x.max(axis=0) - x.min(axis=0))) or 1.0
    tree = geometry.bb_tree(mesh, tdim, padding=1e-10 * size, entities=np.arange(n, dtype=np.int32))
    cand = geometry.compute_collisions_points(tree, pts)
    offsets = np.asarray(cand.offsets)
    cells = np.asarray(cand.array, dtype=np.int32)
    if cells.size == 0:
        return first
    owner = np.repeat(np.arange(pts.shape[0]), np.diff(offsets))
    nodes = mesh.geometry.dofmaps[0][cells, : tdim + 1]
    X = x[nodes][:, :, :tdim]  # (pairs, d+1, d)
    T = np.swapaxes(X[:, 1:, :] - X[:, :1, :], 1, 2)  # columns: edge vectors
    rhs = (pts[owner, :tdim] - X[:, 0, :])[..., None]
    lam = np.linalg.solve(T, rhs)[..., 0]
    worst = np.minimum(lam.min(axis=1), 1.0 - lam.sum(axis=1))  # smallest barycentric coordinate
    # per point, the candidate deepest inside (largest smallest coordinate)
    order = np.lexsort((-worst, owner))
    best = order[np.r_[True, owner[order][1:] != owner[order][:-1]]]
    ok = worst[best] >= -1e-10
    first[owner[best][ok]] = cells[best][ok]
    return first


class Transfer:
    """Interpolation from the Lagrange space of one mesh into one of another (collective).

    Fast path, no communication: when every degree of freedom of the new space lies in a cell the old mesh
    has *on the same rank* — always so between meshes refined from one another, or from one base mesh,
    since refined cells stay on their parent's rank — the old function is evaluated there
    (:func:`locate_local` + ``Function.eval``). Otherwise (e.g. the mesh stored by a checkpoint and
    redistributed on restart) ``interpolate_nonmatching`` locates the points across ranks. The choice is
    made once per pair of spaces (one reduction) and reused for every function on them.

    Args:
        V_from: The old space.
        V_to: The new space (same value shape).
    """

    def __init__(self, V_from: fem.FunctionSpace, V_to: fem.FunctionSpace):
        from mpi4py import MPI

        self.V_from, self.V_to = V_from, V_to
        mesh = V_to.mesh
        self._points = V_to.tabulate_dof_coordinates()
        self._cells_from = locate_local(V_from.mesh, self._points)
        missing = mesh.comm.allreduce(int(np.count_nonzero(self._cells_from < 0)), op=MPI.SUM)
        self.local = missing == 0
        if self.local:
            return
        from dolfinx import fem

        x = mesh.geometry.x
        lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
        if x.size:
            lo, hi = x.min(axis=0), x.max(axis=0)
        glo, ghi = np.empty(3), np.empty(3)
        mesh.comm.Allreduce(lo, glo, op=MPI.MIN)
        mesh.comm.Allreduce(hi, ghi, op=MPI.MAX)
        padding = 1e-10 * float(np.linalg.norm(ghi - glo))
        self.cells = np.arange(num_owned_cells(mesh), dtype=np.int32)
        self.data = fem.create_interpolation_data(V_to, V_from, self.cells, padding=padding)
        missing = mesh.comm.allreduce(int(np.count_nonzero(self.data.src_owner < 0)))
        if missing:
            raise GpfemError(f"mesh transfer: {missing} points of the new mesh lie outside the old one")

    def __call__(self, u: fem.Function, out: fem.Function | None = None) -> fem.Function:
        """Interpolate ``u`` (on ``V_from``) into ``out`` (a new function on ``V_to`` if ``None``)."""
        from dolfinx import fem

        if out is None:
            out = fem.Function(self.V_to, name=u.name)
        if self.local:
            bs = self.V_to.dofmap.index_map_bs
            vals = u.eval(self._points, self._cells_from)
            out.x.array[:] = np.asarray(vals).reshape(-1, bs).ravel()
        else:
            out.interpolate_nonmatching(u, self.cells, self.data)
        out.x.scatter_forward()
        return out


def transfer(u: fem.Function, V_to: fem.FunctionSpace) -> fem.Function:
    """``u`` interpolated into the space ``V_to`` on another mesh (collective)."""
    return Transfer(u.function_space, V_to)(u)


def _integral(u: fem.Function) -> float:
    import ufl
    from dolfinx import fem

    return float(u.function_space.mesh.comm.allreduce(fem.assemble_scalar(fem.form(u * ufl.dx))))


def conserve_integral(u: fem.Function, target: float) -> float:
    """Add the constant that makes ``integral(u) = target`` (collective); return that constant.

    The L2-nearest field with the target integral (see the module docstring).
    """
    import ufl
    from dolfinx import fem

    mesh = u.function_space.mesh
    vol = float(mesh.comm.allreduce(fem.assemble_scalar(fem.form(1.0 * ufl.dx(domain=mesh)))))
    shift = (target - _integral(u)) / vol
    u.x.array[:] += shift
    return shift


def transfer_bounded(
    alpha: fem.Function, bound: fem.Function, V_to: fem.FunctionSpace, transfer_op: Transfer | None = None
) -> tuple[fem.Function, fem.Function]:
    """Move a damage field and its lower bound; return ``(alpha_new, bound_new)`` with alpha >= bound.

    Args:
        alpha: Damage (P1).
        bound: Its lower bound (the last accepted damage).
        V_to: The new P1 space.
        transfer_op: A :class:`Transfer` between the two spaces to reuse.
    """
    op = transfer_op or Transfer(alpha.function_space, V_to)
    a_new, b_new = op(alpha), op(bound)
    np.maximum(a_new.x.array, b_new.x.array, out=a_new.x.array)
    return a_new, b_new


def transfer_all(funcs: Sequence[fem.Function], V_to: fem.FunctionSpace) -> list[fem.Function]:
    """Several functions on one space moved with one point location."""
    if not funcs:
        return []
    op = Transfer(funcs[0].function_space, V_to)
    return [op(f) for f in funcs]
