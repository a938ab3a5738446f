"""Partition-independent per-vertex data: the mesh-file (input) index of every P1 degree of freedom.

Vertices keep their input index whatever the partition, so data keyed by it — checkpoints, random
initial conditions — is the same on 1 rank or on N.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gpfem.base.errors import GpfemError

if TYPE_CHECKING:
    from mpi4py import MPI

    from dolfinx import fem

__all__ = ["gather_by_input_index", "vertex_input_ids", "vertex_random"]


def vertex_input_ids(V: fem.FunctionSpace) -> tuple[np.ndarray, int, int]:
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


def vertex_random(V: fem.FunctionSpace, rng: np.random.Generator, n: int = 1) -> np.ndarray:
    """``n`` uniform [0, 1) values per local dof of the P1 space ``V``, the same on any partition.

    Returns:
        Array of shape ``(n, local dofs)``: row k is field k at this rank's dofs.
    """
    ids, _, _ = vertex_input_ids(V)
    return rng.random((n, V.mesh.geometry.index_map().size_global))[:, ids]


def gather_by_input_index(comm: MPI.Comm, ids: np.ndarray, rows: np.ndarray, what: str) -> np.ndarray | None:
    """Gather owned rows to rank 0 in input-index order (collective): rank 0 gets the array, others ``None``.

    Args:
        comm: MPI communicator.
        ids: Input index of each local row; over all ranks a permutation of ``0 .. N-1``.
        rows: One row per index.
        what: What is gathered, for the error message.

    Raises:
        GpfemError: On rank 0, if the indices are not a permutation.
    """
    g = comm.gather((ids, rows), root=0)
    if comm.rank != 0 or g is None:
        return None
    k = np.concatenate([a for a, _ in g])
    r = np.concatenate([b for _, b in g])
    order = np.argsort(k, kind="stable")
    if not np.array_equal(k[order], np.arange(k.size)):
        raise GpfemError(f"{what}: vertex input indices are not a permutation")
    return r[order]
