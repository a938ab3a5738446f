r"""Cell indicators for adaptive refinement: where the physics needs small cells.

Every function works on the cells this rank *owns* (the first ``size_local`` cells; the order of
``parent_cells`` and of the levels kept by :class:`~gpfem.amr.adaptive_mesh.AdaptiveMesh`) and is vectorised
with numpy. Indicators built from P1 vertex values are the same on any partition, because the vertex values
are; that keeps the adapted mesh independent of the number of ranks.

The model-specific rules (stated and justified in ``docs/amr.md``):

* **Cahn-Hilliard**: a cell is in an interface when the interval spanned by its normalised composition
  ``phi = (c - c_alpha)/(c_beta - c_alpha)`` at its vertices meets ``[theta, 1 - theta]``
  (:func:`interface_cells`). Bulk cells (all vertices within ``theta`` of one well) are not marked, so an
  interface that has passed leaves them to be coarsened; a cell cut by a sharp interface (one vertex at each
  well) is marked even without an intermediate vertex value.
* **Fracture**: a cell is marked where damage has started, ``max alpha > alpha_threshold``, or where the
  degraded-able elastic energy density is a given fraction of the critical density
  ``psi_c = Gc / (c_w ell)``, ``psi+ > psi_fraction psi_c`` (:func:`fracture_cells`). For AT1 damage starts
  at ``psi+ = psi_c / 2``; for AT2 the local damage is ``psi+/(psi+ + psi_c)``. So the energy criterion
  marks the process zone ahead of the tip before damage reaches it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from dolfinx import fem
    from dolfinx import mesh as dmesh

__all__ = [
    "CellExpression",
    "cell_expression",
    "cell_dof_values",
    "dilate",
    "fracture_cells",
    "interface_cells",
    "num_owned_cells",
    "vertex_indicator",
]


def num_owned_cells(mesh: dmesh.Mesh) -> int:
    """Cells owned by this rank."""
    return mesh.topology.index_map(mesh.topology.dim).size_local


def cell_dof_values(u: fem.Function) -> np.ndarray:
    """Values of a scalar Lagrange function at the nodes of each owned cell, shape ``(cells, nodes)``.

    For P1 these are the vertex values; for P2 the vertex and edge-midpoint values (the vertices of the
    cells a refinement would create: :meth:`~gpfem.amr.adaptive_mesh.AdaptiveMesh.rebuild` samples an old
    field in P2 on each intermediate mesh for that reason).
    """
    V = u.function_space
    if V.dofmap.index_map_bs != 1 or V.element.basix_element.family.name != "P":
        raise ValueError("cell_dof_values needs a scalar Lagrange function")
    n = num_owned_cells(V.mesh)
    return u.x.array[V.dofmap.list[:n]]


class CellExpression:
    """A UFL expression evaluated at the midpoint of each owned cell (DG0 interpolation), compiled once.

    For a P1 displacement the strain, hence any strain-energy density, is constant per cell, so the midpoint
    value is the cell value.

    Args:
        expr: The UFL expression (of functions on ``mesh``).
        mesh: The mesh.
    """

    def __init__(self, expr: Any, mesh: dmesh.Mesh):
        import ufl
        from dolfinx import fem

        Q = fem.functionspace(mesh, ("DG", 0))
        self._q = fem.Function(Q)
        self._expr = fem.Expression(ufl.as_ufl(expr), Q.element.interpolation_points)
        self._n = num_owned_cells(mesh)

    def values(self) -> np.ndarray:
        """The current values per owned cell."""
        self._q.interpolate(self._expr)
        return self._q.x.array[: self._n].copy()


def cell_expression(expr: Any, mesh: dmesh.Mesh) -> np.ndarray:
    """One evaluation of a :class:`CellExpression`."""
    return CellExpression(expr, mesh).values()


def dilate(mesh: dmesh.Mesh, marked: np.ndarray, rings: int = 1) -> np.ndarray:
    """Grow a set of owned cells by ``rings`` layers of vertex neighbours, across ranks.

    A cell joins when one of its vertices belongs to a marked cell on any rank (a vertex vector summed by a
    reverse scatter), so the result does not depend on the partition.

    Args:
        mesh: The mesh.
        marked: Boolean per owned cell.
        rings: Layers to add (0: unchanged).

    Returns:
        The grown boolean mask per owned cell.
    """
    from dolfinx import la

    out = np.asarray(marked, dtype=bool).copy()
    if rings <= 0:
        return out
    tdim = mesh.topology.dim
    mesh.topology.create_connectivity(tdim, 0)
    n = num_owned_cells(mesh)
    c2v = mesh.topology.connectivity(tdim, 0).array.reshape(-1, tdim + 1)[:n]
    vec = la.vector(mesh.topology.index_map(0))
    for _ in range(rings):
        vec.array[:] = 0.0
        vec.array[c2v[out].ravel()] = 1.0
        vec.scatter_reverse(la.InsertMode.add)
        vec.scatter_forward()
        out = vec.array[c2v].max(axis=1) > 0.0
    return out


def vertex_indicator(V: fem.FunctionSpace, marked: np.ndarray) -> fem.Function:
    """A P1 function that is 1 at every vertex of a marked owned cell (on any rank) and 0 elsewhere.

    Sampled on another mesh (:class:`~gpfem.amr.transfer.Transfer`), it tells which cells there overlap the
    marked region: how a region chosen on the current mesh is carried to the intermediate meshes of a
    rebuild from the base mesh.
    """
    from dolfinx import fem, la

    if V.dofmap.index_map_bs != 1 or V.element.basix_element.degree != 1:
        raise ValueError("vertex_indicator needs a scalar P1 space")
    f = fem.Function(V)
    n = num_owned_cells(V.mesh)
    f.x.array[V.dofmap.list[:n][np.asarray(marked, dtype=bool)].ravel()] = 1.0
    f.x.scatter_reverse(la.InsertMode.add)
    f.x.scatter_forward()
    np.minimum(f.x.array, 1.0, out=f.x.array)
    return f


def interface_cells(c: fem.Function, c_alpha: float, c_beta: float, theta: float = 0.1) -> np.ndarray:
    """Owned cells on a diffuse interface of a two-phase composition field.

    With ``phi = (c - c_alpha)/(c_beta - c_alpha)`` at the vertices, a cell is marked when
    ``[min phi, max phi]`` meets ``[theta, 1 - theta]``.

    Args:
        c: Scalar Lagrange (P1, or P2 for a finer sample) composition.
        c_alpha: Composition of the first phase.
        c_beta: Composition of the second phase.
        theta: Distance from the wells (in units of ``c_beta - c_alpha``) that counts as bulk.
    """
    if not 0.0 < theta < 0.5:
        raise ValueError(f"interface_cells: theta must be in (0, 0.5), got {theta}")
    phi = (cell_dof_values(c) - c_alpha) / (c_beta - c_alpha)
    return (phi.max(axis=1) > theta) & (phi.min(axis=1) < 1.0 - theta)


def fracture_cells(
    alpha: fem.Function,
    psi_plus: np.ndarray,
    Gc: float,
    ell: float,
    cw: float,
    alpha_threshold: float = 0.05,
    psi_fraction: float = 0.25,
) -> np.ndarray:
    """Owned cells where a phase-field crack is, or is about to be.

    Marked: ``max alpha > alpha_threshold`` on the cell, or ``psi+ > psi_fraction Gc / (c_w ell)``.

    Args:
        alpha: Scalar Lagrange damage.
        psi_plus: The (undegraded) tensile elastic energy density per owned cell
            (see :func:`cell_expression`).
        Gc: Fracture toughness.
        ell: Regularisation length.
        cw: ``c_w`` of the model (8/3 for AT1, 2 for AT2).
        alpha_threshold: Damage above which a cell is on the crack.
        psi_fraction: Fraction of ``psi_c = Gc/(c_w ell)`` above which a cell is ahead of a tip.
    """
    psi_c = Gc / (cw * ell)
    if not (math.isfinite(psi_c) and psi_c > 0):
        raise ValueError("fracture_cells: need Gc > 0, ell > 0, cw > 0")
    damaged = cell_dof_values(alpha).max(axis=1) > alpha_threshold
    return damaged | (np.asarray(psi_plus) > psi_fraction * psi_c)
