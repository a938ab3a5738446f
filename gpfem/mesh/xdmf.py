"""A mesh with its tags and physical-group names in one XDMF file (+ its .h5), readable without gmsh.

Written where gmsh is (``write_xdmf(notched_plate(...), "sent.xdmf")``), read with ``--mesh sent.xdmf``
on a machine without it (the offline GPU host). ParaView opens the file. The group names travel as an XDMF
``Information`` element (JSON). The mesh is the same; its vertex input order is the written order, so
``initial = random`` noise and checkpoints of a read mesh differ from those of the gmsh-built one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gpfem.base.errors import MeshError
from gpfem.mesh._gmsh import MeshBundle

__all__ = ["read_xdmf", "write_xdmf"]

_GROUPS = "gpfem_groups"


def write_xdmf(bundle: MeshBundle, path: str | Path) -> Path:
    """Write ``bundle`` (mesh, cell and facet tags, group names) to ``path`` (collective)."""
    from dolfinx.io import XDMFFile

    p = Path(path).with_suffix(".xdmf")
    mesh = bundle.mesh
    mesh.name = "mesh"
    with XDMFFile(mesh.comm, str(p), "w") as f:
        f.write_mesh(mesh)
        for tags, name in ((bundle.cell_tags, "cell_tags"), (bundle.facet_tags, "facet_tags")):
            if tags is not None:
                tags.name = name
                f.write_meshtags(tags, mesh.geometry,
                                 geometry_xpath="/Xdmf/Domain/Grid[@Name='mesh']/Geometry")
        f.write_information(_GROUPS, json.dumps({"groups": bundle.groups, "source": bundle.source}))
    return p


def read_xdmf(path: str | Path, comm: Any) -> MeshBundle:
    """Read a mesh written by :func:`write_xdmf` and distribute it (collective).

    Raises:
        MeshError: If the file is not such a mesh.
    """
    from dolfinx.io import XDMFFile

    p = Path(path)
    try:
        with XDMFFile(comm, str(p), "r") as f:
            mesh = f.read_mesh(name="mesh")
            tdim = mesh.topology.dim
            mesh.topology.create_connectivity(tdim - 1, tdim)
            meta = json.loads(f.read_information(_GROUPS))
            cell_tags = f.read_meshtags(mesh, "cell_tags")
            facet_tags = f.read_meshtags(mesh, "facet_tags")
    except (RuntimeError, ValueError, KeyError) as e:
        raise MeshError(f"cannot read mesh file {p} (written by gpfem.mesh.write_xdmf?): {e}") from None
    groups = {k: (int(d), int(t)) for k, (d, t) in meta["groups"].items()}
    return MeshBundle(mesh, cell_tags, facet_tags, groups, f"{meta.get('source', '')} from {p}")
