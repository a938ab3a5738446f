"""A user's mesh: ``.msh`` (any gmsh format version dolfinx reads), ``.geo`` (meshed here), or ``.xdmf``.

An ``.xdmf`` is one written by :func:`gpfem.mesh.xdmf.write_xdmf`, read without gmsh.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mpi4py import MPI

import numpy as np

from gpfem.core.errors import MeshError
from gpfem.mesh._gmsh import MeshBundle, gmsh_model, to_bundle

__all__ = ["check_mesh_file", "load_mesh"]


def check_mesh_file(path: str | Path) -> Path:
    """Validate a mesh path before any work: exists, readable, known suffix.

    Raises:
        MeshError: With a one-line reason.
    """
    p = Path(path)
    if not p.exists():
        raise MeshError(f"mesh file not found: {p}")
    if not p.is_file():
        raise MeshError(f"mesh path is not a file: {p}")
    if p.suffix.lower() not in (".msh", ".geo", ".xdmf"):
        raise MeshError(f"mesh file must be .msh or .geo (or .xdmf), got '{p.suffix}' ({p})")
    try:
        with p.open("rb") as fh:
            fh.read(1)
    except OSError as e:
        raise MeshError(f"cannot read mesh file {p}: {e}") from None
    return p


def load_mesh(path: str | Path, comm: Any = MPI.COMM_WORLD, gdim: int | None = None) -> MeshBundle:
    """Read a ``.msh`` or mesh a ``.geo`` file on rank 0 and distribute it.

    The geometric dimension is the highest dimension of the physical groups (or entities), and a 3D
    model whose nodes all have ``z = 0`` is treated as 2D.

    Raises:
        MeshError: If the file is missing, unreadable, or has no elements.
    """
    p = check_mesh_file(path)
    if p.suffix.lower() == ".xdmf":
        from gpfem.mesh.xdmf import read_xdmf

        return read_xdmf(p, comm)
    err = None
    dim = None
    with gmsh_model("user", comm) as model:
        if model is not None:
            import gmsh

            try:
                gmsh.open(str(p))
                ents = model.getEntities()
                if not ents:
                    raise MeshError(f"{p}: no geometry or mesh entities")
                dim = max(d for d, _ in ents)
                if p.suffix.lower() == ".geo" or len(model.mesh.getNodes()[0]) == 0:
                    model.mesh.generate(dim)
                if not model.getPhysicalGroups(dim):
                    model.addPhysicalGroup(dim, [t for d, t in model.getEntities(dim)], name="domain")
                coords = model.mesh.getNodes()[1].reshape(-1, 3)
                if gdim is None:
                    gdim = 3 if dim == 3 or np.abs(coords[:, 2]).max() > 0 else 2
            except MeshError as e:
                err = str(e)
            except Exception as e:  # gmsh raises plain Exception on parse errors
                err = f"cannot read mesh file {p}: {e}"
        err = comm.bcast(err, root=0)
        gdim = comm.bcast(gdim, root=0)
        if err:
            raise MeshError(err)
        return to_bundle(model, comm, gdim, str(p))
