"""Element sizes: ``h_K = (d! |K|)^(1/d)``, the one cell-size measure of gpfem, and its robust quantile.

:func:`simplex_sizes` is the measure (NumPy only: the crack sampling grid of :mod:`gpfem.crack` uses it on
plain arrays); :func:`cell_sizes` applies it to the owned cells of a DOLFINx mesh (the AMR limits of
:mod:`gpfem.amr`); :func:`mesh_size` reduces those over ranks to one size; :func:`bounding_box` is the
domain's extent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from dolfinx import mesh as dmesh

    from gpfem.mesh._gmsh import MeshBundle

__all__ = ["bounding_box", "cell_sizes", "mesh_size", "simplex_sizes"]


def simplex_sizes(x: np.ndarray) -> np.ndarray:
    """``h_K = (d! |K|)^(1/d)`` of simplices: the leg of the right simplex of the same volume.

    ``h = a`` for right triangles (tetrahedra) with legs ``a``; ``h = 1`` on the 200 x 200 PFHub square.

    Args:
        x: Vertex coordinates, ``(n, d + 1, gdim)`` with ``gdim >= d``; on a manifold (``gdim > d``: a
            triangle in 3D) ``d! |K|`` is the square root of the Gram determinant of the edges.
    """
    x = np.asarray(x, dtype=float)
    d = x.shape[1] - 1
    edges = x[:, 1:, :] - x[:, :1, :]  # (n, d, gdim)
    if x.shape[2] == d:
        vol_d = np.abs(np.linalg.det(edges))  # d! |K|
    else:
        vol_d = np.sqrt(np.abs(np.linalg.det(edges @ edges.transpose(0, 2, 1))))
    return vol_d ** (1.0 / d)


def cell_sizes(mesh: dmesh.Mesh) -> np.ndarray:
    """``h_K`` (:func:`simplex_sizes`) of every cell this rank owns, from the vertex coordinates.

    Args:
        mesh: A DOLFINx simplex mesh (affine cells).
    """
    tdim = mesh.topology.dim
    n = mesh.topology.index_map(tdim).size_local
    nodes = mesh.geometry.dofmaps[0][:n, : tdim + 1]
    if mesh.geometry.dim != tdim:
        return simplex_sizes(mesh.geometry.x[nodes])
    return simplex_sizes(mesh.geometry.x[nodes][:, :, :tdim])  # 2D meshes embedded in the plane


def mesh_size(bundle: MeshBundle, q: float = 0.1) -> float:
    """A robust element size: the smallest over ranks of the local ``q``-quantile of :func:`cell_sizes`.

    So refined bands and not the few tiny cells at a notch tip set it.

    Args:
        bundle: A :class:`~gpfem.mesh.MeshBundle` (or anything with ``.mesh``).
        q: The quantile of the cell sizes.
    """
    from mpi4py import MPI

    m = bundle.mesh
    h = cell_sizes(m)
    local = float(np.quantile(h, q)) if len(h) else np.inf
    return float(m.comm.allreduce(local, op=MPI.MIN))


def bounding_box(mesh: dmesh.Mesh | MeshBundle) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper corners of the whole mesh's axis-aligned bounding box (collective, same on all ranks).

    Args:
        mesh: A DOLFINx mesh (or a :class:`~gpfem.mesh.MeshBundle`).

    Returns:
        ``(lower, upper)``, each of length ``geometry.dim``.
    """
    from mpi4py import MPI

    msh = mesh.mesh if hasattr(mesh, "mesh") else mesh
    gdim = msh.geometry.dim
    x = msh.geometry.x[:, :gdim]
    lo = np.min(x, axis=0, initial=np.inf)
    hi = np.max(x, axis=0, initial=-np.inf)
    comm = msh.comm
    glo, ghi = np.empty_like(lo), np.empty_like(hi)
    comm.Allreduce(lo, glo, op=MPI.MIN)
    comm.Allreduce(hi, ghi, op=MPI.MAX)
    return glo, ghi
