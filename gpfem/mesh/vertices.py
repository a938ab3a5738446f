"""Partition-independent per-vertex data: the mesh-file (input) index of every P1 degree of freedom.

Vertices keep their input index whatever the partition, so data keyed by it — checkpoints, random
initial conditions — is the same on 1 rank or on N.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpfem.core.errors import GpfemError

__all__ = ["vertex_input_ids", "vertex_random"]


def vertex_input_ids(V: Any) -> tuple[np.ndarray, int, int]:
    """Per local dof block of a P1 space: the input vertex index; the block size; the owned count.

    Raises:
        GpfemError: For a space that is not P1 on an affine mesh.
    """
    mesh = V.mesh
    if V.element.basix_element.degree != 1 or mesh.geometry.cmaps[0].degree != 1:
        raise GpfemError("per-vertex data needs P1 fields on affine meshes")
    imap = V.dofmap.index_map
    n = imap.size_local + imap.num_ghosts
    ids = np.full(n, -1, dtype=np.int64)
    ids[V.dofmap.list.ravel()] = mesh.geometry.input_global_indices[mesh.geometry.dofmaps[0].ravel()]
    return ids, V.dofmap.index_map_bs, imap.size_local


def vertex_random(V: Any, rng: np.random.Generator, n: int = 1) -> np.ndarray:
    """``n`` uniform [0, 1) values per local dof of the P1 space ``V``, the same on any partition.

    Returns:
        Array of shape ``(n, local dofs)``: row k is field k at this rank's dofs.
    """
    ids, _, _ = vertex_input_ids(V)
    return rng.random((n, V.mesh.geometry.index_map().size_global))[:, ids]
