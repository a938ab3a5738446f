"""Meshes: gmsh builders (rectangles and boxes also by DOLFINx), user mesh files, XDMF meshes, measures.

A DOLFINx mesh of your own works everywhere a built-in one does: wrap it as ``MeshBundle(mesh)`` (add
``facet_tags`` and ``groups={"left": (fdim, tag), ...}`` to find boundaries by name).

Each name is imported on first use, so :mod:`gpfem.mesh.size` (NumPy only, used by :mod:`gpfem.crack`)
loads without MPI or gmsh.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> the module that defines it (imported on first access).
_API: dict[str, str] = {
    "MeshBundle": "gpfem.mesh.builders",
    "box": "gpfem.mesh.builders",
    "notched_plate": "gpfem.mesh.builders",
    "notched_slab": "gpfem.mesh.builders",
    "rectangle": "gpfem.mesh.builders",
    "sphere_surface": "gpfem.mesh.builders",
    "t_shape": "gpfem.mesh.builders",
    "load_mesh": "gpfem.mesh.files",
    "bounding_box": "gpfem.mesh.size",
    "cell_sizes": "gpfem.mesh.size",
    "mesh_size": "gpfem.mesh.size",
    "simplex_sizes": "gpfem.mesh.size",
    "vertex_input_ids": "gpfem.mesh.vertices",
    "vertex_random": "gpfem.mesh.vertices",
    "read_xdmf": "gpfem.mesh.xdmf",
    "write_xdmf": "gpfem.mesh.xdmf",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'gpfem.mesh' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
