"""A user's mesh: ``.msh`` (any gmsh format version dolfinx reads), ``.geo`` (meshed here), or ``.xdmf``.

An ``.xdmf`` is one written by :func:`gpfem.mesh.xdmf.write_xdmf`, read without gmsh.
"""

from __future__ import annotations

from pathlib import Path

from mpi4py import MPI

import numpy as np

from gpfem.base.errors import MeshError
from gpfem.mesh._gmsh import MeshBundle, gmsh_model, to_bundle

__all__ = ["check_mesh_file", "load_mesh", "validate_mesh_file"]

_MSH_HEADERS = (b"$MeshFormat", b"$NOD", b"$PhysicalNames")


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


def validate_mesh_file(path: str | Path, comm: MPI.Comm = MPI.COMM_WORLD) -> Path:
    """:func:`check_mesh_file`, then a look inside, cheap enough to do before a run starts.

    A ``.msh`` must start with a gmsh section header (``$MeshFormat``; ``$NOD`` for format 1); a ``.geo``
    must parse (gmsh builds its geometry on rank 0, without meshing). A file that passes can still fail
    while it is meshed or read: :func:`load_mesh` then raises :class:`MeshError` as well.

    Raises:
        MeshError: With a one-line reason, on every rank.
    """
    p = check_mesh_file(path)
    err = None
    if comm.rank == 0:
        if p.suffix.lower() == ".msh":
            with p.open("rb") as fh:
                head = fh.read(64).lstrip()
            if not head.startswith(_MSH_HEADERS):
                err = f"{p} is not a gmsh .msh file (it does not start with $MeshFormat)"
        elif p.suffix.lower() == ".geo":
            import gmsh

            with gmsh_model("check", comm) as _model:
                try:
                    gmsh.open(str(p))
                except Exception as e:  # gmsh raises plain Exception on parse errors
                    err = f"cannot read mesh file {p}: {_first_line(e)}"
    err = comm.bcast(err, root=0)
    if err:
        raise MeshError(err)
    return p


def _first_line(e: Exception) -> str:
    lines = str(e).strip().splitlines()
    return lines[0] if lines else type(e).__name__


def load_mesh(path: str | Path, comm: MPI.Comm = MPI.COMM_WORLD, gdim: int | None = None) -> MeshBundle:
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
                err = f"cannot read mesh file {p}: {_first_line(e)}"
        err = comm.bcast(err, root=0)
        gdim = comm.bcast(gdim, root=0)
        if err:
            raise MeshError(err)
        return to_bundle(model, comm, gdim, str(p))
