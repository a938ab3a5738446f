"""gmsh session handling: build on rank 0, distribute with ``dolfinx.io.gmsh.model_to_mesh``."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mpi4py import MPI

import numpy as np

from gpfem.base.errors import MeshError

if TYPE_CHECKING:
    from dolfinx import mesh as dmesh

__all__ = ["MeshBundle", "gmsh_model", "to_bundle"]


@dataclass
class MeshBundle:
    """A distributed mesh with its tags and physical-group names.

    Attributes:
        mesh: The DOLFINx mesh.
        cell_tags: Cell markers (may be ``None``).
        facet_tags: Facet markers (may be ``None``).
        groups: Physical name -> ``(dim, tag)``.
        source: Where it came from (builder name or file path), for the summary.
    """

    mesh: dmesh.Mesh
    cell_tags: dmesh.MeshTags | None = None
    facet_tags: dmesh.MeshTags | None = None
    groups: dict[str, tuple[int, int]] = field(default_factory=dict)
    source: str = ""

    @property
    def comm(self) -> MPI.Comm:
        """The mesh communicator."""
        return self.mesh.comm

    @property
    def gdim(self) -> int:
        """Geometric dimension."""
        return self.mesh.geometry.dim

    @classmethod
    def of(cls, mesh: MeshBundle | dmesh.Mesh) -> MeshBundle:
        """``mesh`` as a bundle: a bundle is itself; a plain ``dolfinx.mesh.Mesh`` gets no tags or groups.

        Models whose boundary conditions come from the caller, or are natural, need no named groups.
        """
        return mesh if isinstance(mesh, MeshBundle) else cls(mesh, source="dolfinx mesh")

    def facets(self, name: str) -> np.ndarray:
        """Local indices of the facets in the physical group ``name``.

        Raises:
            MeshError: If the mesh has no facet group of that name.
        """
        tdim = self.mesh.topology.dim
        if name not in self.groups or self.groups[name][0] != tdim - 1 or self.facet_tags is None:
            have = [n for n, (d, _) in self.groups.items() if d == tdim - 1]
            raise MeshError(
                f"mesh '{self.source}' has no boundary physical group '{name}' "
                f"(it has: {', '.join(have) or 'none'})"
            )
        return self.facet_tags.find(self.groups[name][1])

    def num_cells_global(self) -> int:
        """Number of cells over all ranks."""
        imap = self.mesh.topology.index_map(self.mesh.topology.dim)
        return imap.size_global

    def hmin(self) -> float:
        """Smallest cell diameter over all ranks."""
        tdim = self.mesh.topology.dim
        n = self.mesh.topology.index_map(tdim).size_local
        h = self.mesh.h(tdim, np.arange(n, dtype=np.int32))
        local = float(h.min()) if n else np.inf
        return float(self.comm.allreduce(local, op=MPI.MIN))


@contextlib.contextmanager
def gmsh_model(name: str, comm: MPI.Comm) -> Iterator[Any]:
    """Yield a fresh gmsh model on rank 0 (``None`` elsewhere); finalize gmsh if we started it.

    Raises:
        MeshError: If gmsh is not installed (on every rank).
    """
    import importlib.util

    if importlib.util.find_spec("gmsh") is None:
        raise MeshError(f"mesh '{name}' needs gmsh, which is not installed here; structured rectangles and "
                        "boxes need no gmsh (GPFEM_MESHER=dolfinx), other geometries can be read from an "
                        ".xdmf written where gmsh is (gpfem.mesh.write_xdmf)")
    import gmsh

    if comm.rank != 0:
        yield None
        return
    # gmsh's C++ initialisation installs its own signal handlers; put Python's back afterwards so that
    # Ctrl-C / SIGTERM still reach gpfem's graceful stop (gpfem.base.interrupt).
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    started = not gmsh.isInitialized()
    if started:
        gmsh.initialize(interruptible=False)
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.option.setNumber("General.Verbosity", 1)
    gmsh.model.add(name)
    try:
        yield gmsh.model
    finally:
        gmsh.model.remove()
        if started:
            gmsh.finalize()
        with contextlib.suppress(ValueError, TypeError):  # ValueError: not the main thread
            for sig, handler in saved.items():
                if handler is not None:
                    signal.signal(sig, handler)


def to_bundle(model: Any, comm: MPI.Comm, gdim: int, source: str) -> MeshBundle:
    """Distribute a meshed gmsh model (rank 0) to all ranks."""
    from dolfinx.io import gmsh as dgmsh

    data = dgmsh.model_to_mesh(model, comm, 0, gdim=gdim)
    groups = {name: (int(pg.dim), int(pg.tag)) for name, pg in data.physical_groups.items()}
    data.mesh.topology.create_connectivity(data.mesh.topology.dim - 1, data.mesh.topology.dim)
    return MeshBundle(data.mesh, data.cell_tags, data.facet_tags, groups, source)
