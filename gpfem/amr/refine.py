"""One refinement pass: marked cells -> a refined, distributed mesh that keeps its named boundaries.

``dolfinx.mesh.refine`` (Plaza-Carey bisection) splits every edge of the marked cells and as many more as a
conforming mesh needs; refined cells stay on the rank of their parent, so the parent map is local and the
nested transfer needs no communication. Facet tags (the named physical groups the models look boundaries up
by) and cell tags are carried over with the parent-facet map; the group names are unchanged.

Each owned cell has a *level*: the number of times one of its ancestors was *marked*. Cells split only to
keep the mesh conforming (Plaza's closure) inherit their parent's level, so ``max_levels`` bounds the
marked refinement; the closure can bisect a finest-level cell once more (its ``h`` then drops by up to
``sqrt 2``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gpfem.amr.indicators import num_owned_cells
from gpfem.mesh import MeshBundle

__all__ = ["Refinement", "global_count", "longest_edges", "refine_cells"]


@dataclass
class Refinement:
    """The result of a refinement pass.

    Attributes:
        bundle: The refined mesh with its tags and group names.
        parent_cells: For every owned cell of the new mesh, the local index of its parent cell.
        levels: Level of every owned cell of the new mesh.
    """

    bundle: MeshBundle
    parent_cells: np.ndarray
    levels: np.ndarray


def global_count(comm: Any, mask: np.ndarray) -> int:
    """Number of ``True`` entries over all ranks."""
    return int(comm.allreduce(int(np.count_nonzero(mask))))


def longest_edges(mesh: Any, cells: np.ndarray) -> np.ndarray:
    """The longest edge of each given local cell (ties: the edge whose midpoint is smallest in x, then y, z).

    The choice depends on coordinates only, so it is the same on any partition.
    """
    from dolfinx import mesh as dmesh

    tdim = mesh.topology.dim
    mesh.topology.create_connectivity(tdim, 1)
    ne = {2: 3, 3: 6}[tdim]
    c2e = mesh.topology.connectivity(tdim, 1).array.reshape(-1, ne)[cells]
    nodes = dmesh.entities_to_geometry(mesh, 1, c2e.ravel().astype(np.int32))
    x = mesh.geometry.x[nodes]  # (n * ne, 2, 3)
    length = np.linalg.norm(x[:, 1] - x[:, 0], axis=1).reshape(-1, ne)
    mid = (0.5 * (x[:, 1] + x[:, 0])).reshape(-1, ne, 3)
    scale = float(length.max()) if length.size else 1.0
    key_len = -np.round(length / scale, 10)  # equal up to round-off counts as a tie
    order = np.lexsort((mid[..., 2], mid[..., 1], mid[..., 0], key_len), axis=-1)
    return c2e[np.arange(len(cells)), order[:, 0]].astype(np.int32)


def refine_cells(
    bundle: MeshBundle, marked: np.ndarray, levels: np.ndarray | None = None, bisect: bool = False
) -> Refinement:
    """Refine the marked owned cells of ``bundle`` (collective).

    Args:
        bundle: The mesh.
        marked: Boolean per owned cell.
        levels: Current level per owned cell (zeros if ``None``).
        bisect: Split only the longest edge of each marked cell (its area halves, ``h_K`` drops by
            ``sqrt 2``; Plaza's closure bisects neighbours as needed) instead of all its edges (four
            children, ``h_K`` halves).

    Returns:
        The refined mesh, the parent map and the new levels.
    """
    from dolfinx import mesh as dmesh

    msh = bundle.mesh
    tdim = msh.topology.dim
    n = num_owned_cells(msh)
    marked = np.asarray(marked, dtype=bool)
    if marked.shape != (n,):
        raise ValueError(f"refine_cells: {marked.shape[0]} marks for {n} owned cells")
    levels = np.zeros(n, dtype=np.int32) if levels is None else np.asarray(levels, dtype=np.int32)
    msh.topology.create_entities(1)
    msh.topology.create_connectivity(tdim, 1)
    cells = np.flatnonzero(marked).astype(np.int32)
    if bisect:
        edges = np.unique(longest_edges(msh, cells))
    else:
        edges = dmesh.compute_incident_entities(msh.topology, cells, tdim, 1)
    # partitioner=None: children stay on their parent's rank and the new mesh has no ghost cells, like the
    # gmsh meshes (the tag transfer of DOLFINx 0.11 indexes the parent map, which covers owned cells only,
    # with every local cell: with ghost cells it reads past its end).
    new, parent_cell, parent_facet = dmesh.refine(
        msh, edges, partitioner=None, option=dmesh.RefinementOption.parent_cell_and_facet
    )
    parent_cell = np.asarray(parent_cell, dtype=np.int32)
    new.topology.create_connectivity(tdim - 1, tdim)
    facet_tags = cell_tags = None
    if bundle.facet_tags is not None:
        facet_tags = dmesh.transfer_meshtag(bundle.facet_tags, new, parent_cell, parent_facet)
        facet_tags.name = bundle.facet_tags.name
    if bundle.cell_tags is not None:
        cell_tags = dmesh.transfer_meshtag(bundle.cell_tags, new, parent_cell)
        cell_tags.name = bundle.cell_tags.name
    # DOLFINx returns the parent map in the order the refined cells were created; the new mesh then
    # reorders its cells (original_cell_index: creation index, offset by the cells of lower ranks).
    n_new = num_owned_cells(new)
    created = np.asarray(new.topology.original_cell_index[:n_new], dtype=np.int64)
    offset = new.comm.exscan(n_new) if new.comm.size > 1 else 0
    parents = parent_cell[created - (offset or 0)]
    new_levels = levels[parents] + marked[parents].astype(np.int32)
    source = bundle.source if bundle.source.endswith("(adapted)") else f"{bundle.source} (adapted)"
    out = MeshBundle(new, cell_tags, facet_tags, dict(bundle.groups), source)
    return Refinement(out, parents, new_levels)
