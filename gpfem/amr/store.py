"""An adapted mesh as plain arrays, so that a checkpoint can rebuild it on any number of ranks.

A mesh built by gmsh from parameters is rebuilt from its source on restart; an adapted mesh is not (its
refinement depended on the solution and, through Plaza's closure, on nothing else but could still differ
if replayed on a different partition). So the mesh itself is stored: vertex coordinates ordered by the
mesh's *input* vertex index (the key the checkpointed fields use, see :mod:`gpfem.mesh.vertices`), cells
and tagged facets as input-index tuples, cell data (the refinement level) per cell. :func:`mesh_from_arrays`
distributes it with DOLFINx's default partitioner; the vertex at row ``i`` gets input index ``i``, so the
fields of the same checkpoint load onto it unchanged, on 1 rank or on N.

Restriction: the arrays are gathered on rank 0 (as the checkpointed fields already are), so rank 0 must
hold the whole mesh in memory: about ``(gdim + d + 2) * 8`` bytes per vertex, 40 MB for a million vertices
in 2D.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from gpfem.amr.indicators import num_owned_cells
from gpfem.base.errors import GpfemError
from gpfem.mesh import MeshBundle
from gpfem.mesh.vertices import gather_by_input_index

__all__ = ["mesh_arrays", "mesh_from_arrays"]

_PREFIX = "mesh__"


def _entity_rows(mesh: Any, dim: int, entities: np.ndarray) -> np.ndarray:
    """Vertex input indices of the given local entities, each row sorted."""
    from dolfinx import mesh as dmesh

    if entities.size == 0:
        return np.empty((0, dim + 1), dtype=np.int64)
    nodes = dmesh.entities_to_geometry(mesh, dim, entities.astype(np.int32))
    ids = mesh.geometry.input_global_indices[nodes]
    return np.sort(ids, axis=1).astype(np.int64)


def mesh_arrays(bundle: MeshBundle, cell_data: Mapping[str, np.ndarray] | None = None) -> dict[str, Any]:
    """Gather a P1 simplex mesh, its tags, group names and per-cell data (collective).

    Args:
        bundle: The mesh.
        cell_data: Name -> values per owned cell (e.g. ``{"level": levels}``).

    Returns:
        On rank 0 a dict of numpy arrays (keys prefixed ``mesh__``, ready for ``np.savez``); ``{}`` elsewhere.
    """
    mesh, comm = bundle.mesh, bundle.comm
    tdim, gdim = mesh.topology.dim, mesh.geometry.dim
    if mesh.geometry.cmaps[0].degree != 1:
        raise GpfemError("mesh store: only affine (P1 geometry) meshes")
    n_nodes = mesh.geometry.index_map().size_local
    ids = np.asarray(mesh.geometry.input_global_indices, dtype=np.int64)
    x = gather_by_input_index(comm, ids[:n_nodes], mesh.geometry.x[:n_nodes, :gdim].copy(),
                              "mesh store")
    n = num_owned_cells(mesh)
    cells = ids[mesh.geometry.dofmaps[0][:n]]
    local = {"cells": cells}
    for name, vals in (cell_data or {}).items():
        local[f"cell_{name}"] = np.asarray(vals)[:n]
    if bundle.cell_tags is not None:
        tagged = np.full(n, -1, dtype=np.int32)  # -1: untagged (dropped on reload)
        keep = bundle.cell_tags.indices < n
        tagged[bundle.cell_tags.indices[keep]] = bundle.cell_tags.values[keep]
        local["cell_tags"] = tagged
    gathered = comm.gather(local, root=0)
    if bundle.facet_tags is not None:
        ft = bundle.facet_tags
        facets = comm.gather((_entity_rows(mesh, tdim - 1, ft.indices), ft.values.astype(np.int32)), root=0)
    else:
        facets = None
    if comm.rank != 0:
        return {}
    out: dict[str, Any] = {"x": x}
    for key in gathered[0]:
        out[key] = np.concatenate([g[key] for g in gathered])
    if facets is not None:
        rows = np.concatenate([f[0] for f in facets])
        vals = np.concatenate([f[1] for f in facets])
        rows, first = np.unique(rows, axis=0, return_index=True)  # shared facets appear on several ranks
        out["facets"], out["facet_values"] = rows, vals[first]
    meta = {"cell": mesh.basix_cell().name, "gdim": gdim, "groups": bundle.groups, "source": bundle.source,
            "cell_tags_name": None if bundle.cell_tags is None else bundle.cell_tags.name,
            "facet_tags_name": None if bundle.facet_tags is None else bundle.facet_tags.name}
    out["meta"] = np.array(json.dumps(meta))
    return {_PREFIX + k: v for k, v in out.items()}


def mesh_from_arrays(comm: Any, arrays: Mapping[str, Any]) -> tuple[MeshBundle, dict[str, np.ndarray]]:
    """Distribute a mesh stored by :func:`mesh_arrays` (collective; only rank 0's ``arrays`` are read).

    Returns:
        The mesh bundle and the per-cell data, as values per owned cell of the new partition.
    """
    import basix.ufl
    import ufl
    from dolfinx import graph
    from dolfinx import mesh as dmesh
    from dolfinx.io import distribute_entity_data

    meta = None
    if comm.rank == 0:
        if _PREFIX + "meta" not in arrays:
            raise GpfemError("mesh store: no stored mesh in these arrays")
        meta = json.loads(str(arrays[_PREFIX + "meta"]))
        meta["data"] = sorted(k[len(_PREFIX) + 5:] for k in arrays if k.startswith(_PREFIX + "cell_")
                              and k != _PREFIX + "cell_tags")
        meta["has_cell_tags"] = _PREFIX + "cell_tags" in arrays
        meta["has_facets"] = _PREFIX + "facets" in arrays
    meta = comm.bcast(meta, root=0)
    gdim = meta["gdim"]
    cell = meta["cell"]
    tdim = {"interval": 1, "triangle": 2, "tetrahedron": 3}[cell]
    nv = tdim + 1

    def arr(key: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        if comm.rank == 0:
            return np.asarray(arrays[_PREFIX + key], dtype=dtype)
        return np.empty(shape, dtype=dtype)

    x = arr("x", (0, gdim), np.float64)
    cells = arr("cells", (0, nv), np.int64)
    domain = ufl.Mesh(basix.ufl.element("Lagrange", cell, 1, shape=(gdim,)))
    mesh = dmesh.create_mesh(comm, cells, domain, x)
    mesh.topology.create_connectivity(tdim - 1, tdim)
    sorted_cells = np.sort(cells, axis=1)

    def tags(dim: int, ents: np.ndarray, values: np.ndarray) -> Any:
        local_e, local_v = distribute_entity_data(mesh, dim, ents, values)
        mesh.topology.create_connectivity(dim, tdim)
        return dmesh.meshtags_from_entities(mesh, dim, graph.adjacencylist(local_e), local_v)

    n = num_owned_cells(mesh)
    data: dict[str, np.ndarray] = {}
    for name in meta["data"]:
        vals = arr(f"cell_{name}", (0,), np.int32)
        mt = tags(tdim, sorted_cells, vals.astype(np.int32))
        out = np.zeros(n, dtype=np.int32)
        keep = mt.indices < n
        out[mt.indices[keep]] = mt.values[keep]
        data[name] = out
    cell_tags = facet_tags = None
    if meta["has_cell_tags"]:
        ct = arr("cell_tags", (0,), np.int32)
        cell_tags = tags(tdim, sorted_cells[ct >= 0], ct[ct >= 0])
        cell_tags.name = meta["cell_tags_name"] or "cell_tags"
    if meta["has_facets"]:
        facet_tags = tags(tdim - 1, arr("facets", (0, nv - 1), np.int64),
                          arr("facet_values", (0,), np.int32))
        facet_tags.name = meta["facet_tags_name"] or "facet_tags"
    groups = {k: (int(v[0]), int(v[1])) for k, v in meta["groups"].items()}
    return MeshBundle(mesh, cell_tags, facet_tags, groups, meta["source"]), data
