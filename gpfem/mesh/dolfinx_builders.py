"""Rectangles and boxes built by DOLFINx itself, for machines without gmsh (an offline GPU host).

Same names and tags as the gmsh builders (:mod:`gpfem.mesh.builders`): cells ``domain`` = 1; sides
``left`` 2, ``right`` 3, ``bottom`` 4, ``top`` 5, ``back`` 6, ``front`` 7. The triangles of
:func:`rectangle` are those of gmsh's transfinite rectangle (each grid square cut along the diagonal from its
bottom-right to its top-left corner), so a run gives the same results to round-off, except where a value
depends on the vertex input order: ``initial = random`` noise and checkpoint keys (``mesh.vertices``). The
tetrahedra of :func:`box` are DOLFINx's six-per-cube split, not gmsh's. Which builder runs is
:func:`mesher`'s choice: ``GPFEM_MESHER=gmsh|dolfinx``, by default gmsh where it is installed.
"""

from __future__ import annotations

import importlib.util
import os
from typing import TYPE_CHECKING

import numpy as np

from gpfem.base.errors import MeshError
from gpfem.mesh._gmsh import MeshBundle

if TYPE_CHECKING:
    from mpi4py import MPI

    from dolfinx import mesh as dmesh

__all__ = ["MESHERS", "box", "mesher", "rectangle"]

#: Values of ``GPFEM_MESHER``.
MESHERS = ("gmsh", "dolfinx")
_SIDES = (("left", "right"), ("bottom", "top"), ("back", "front"))


def mesher() -> str:
    """``GPFEM_MESHER`` if set, else ``gmsh`` where the gmsh module is installed, else ``dolfinx``.

    Raises:
        MeshError: On a value other than ``gmsh`` or ``dolfinx``.
    """
    want = os.environ.get("GPFEM_MESHER", "").strip().lower()
    if want and want not in MESHERS:
        raise MeshError(f"GPFEM_MESHER must be one of {', '.join(MESHERS)}, got '{want}'")
    if want:
        return want
    return "gmsh" if importlib.util.find_spec("gmsh") is not None else "dolfinx"


def _tagged(mesh: dmesh.Mesh, bounds: list[tuple[float, float]], source: str) -> MeshBundle:
    """Facet tags for the sides of an axis-aligned box and a ``domain`` cell tag, as the gmsh builders."""
    from dolfinx import mesh as dmesh

    tdim = mesh.topology.dim
    fdim = tdim - 1
    mesh.topology.create_connectivity(fdim, tdim)
    eps = 1e-10 * max(hi - lo for lo, hi in bounds)
    groups: dict[str, tuple[int, int]] = {"domain": (tdim, 1)}
    ents, vals = [], []
    tag = 2
    for axis in range(tdim):
        for side, coord in zip(_SIDES[axis], bounds[axis], strict=True):
            f = dmesh.locate_entities_boundary(mesh, fdim,
                                               lambda x, a=axis, c=coord: np.abs(x[a] - c) < eps)
            ents.append(f)
            vals.append(np.full(f.size, tag, dtype=np.int32))
            groups[side] = (fdim, tag)
            tag += 1
    e, v = np.concatenate(ents), np.concatenate(vals)
    order = np.argsort(e, kind="stable")
    facet_tags = dmesh.meshtags(mesh, fdim, e[order].astype(np.int32), v[order])
    imap = mesh.topology.index_map(tdim)
    cells = np.arange(imap.size_local + imap.num_ghosts, dtype=np.int32)
    cell_tags = dmesh.meshtags(mesh, tdim, cells, np.ones_like(cells))
    return MeshBundle(mesh, cell_tags, facet_tags, groups, f"{source} by dolfinx")


def rectangle(Lx: float, Ly: float, nx: int, ny: int, quadrilateral: bool = False,
              comm: MPI.Comm | None = None) -> MeshBundle:
    """A structured ``[0, Lx] x [0, Ly]`` mesh of ``nx x ny`` squares (two triangles or one quadrilateral)."""
    from mpi4py import MPI

    from dolfinx import mesh as dmesh

    comm = comm or MPI.COMM_WORLD
    pts = [np.array([0.0, 0.0]), np.array([float(Lx), float(Ly)])]
    if quadrilateral:
        m = dmesh.create_rectangle(comm, pts, [nx, ny], dmesh.CellType.quadrilateral)
    else:
        m = dmesh.create_rectangle(comm, pts, [nx, ny], dmesh.CellType.triangle,
                                   diagonal=dmesh.DiagonalType.left)
    return _tagged(m, [(0.0, Lx), (0.0, Ly)], f"rectangle({Lx}x{Ly}, {nx}x{ny})")


def box(Lx: float, Ly: float, Lz: float, nx: int, ny: int, nz: int,
        comm: MPI.Comm | None = None) -> MeshBundle:
    """A structured tetrahedral ``[0,Lx]x[0,Ly]x[0,Lz]`` mesh (six tetrahedra per cube)."""
    from mpi4py import MPI

    from dolfinx import mesh as dmesh

    comm = comm or MPI.COMM_WORLD
    m = dmesh.create_box(comm, [np.zeros(3), np.array([float(Lx), float(Ly), float(Lz)])], [nx, ny, nz],
                         dmesh.CellType.tetrahedron)
    return _tagged(m, [(0.0, Lx), (0.0, Ly), (0.0, Lz)], f"box({Lx}x{Ly}x{Lz}, {nx}x{ny}x{nz})")
