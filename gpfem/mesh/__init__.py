"""Meshes: gmsh builders (rectangles and boxes also by DOLFINx), user mesh files, XDMF meshes, measures.

A DOLFINx mesh of your own works everywhere a built-in one does: wrap it as ``MeshBundle(mesh)`` (add
``facet_tags`` and ``groups={"left": (fdim, tag), ...}`` to find boundaries by name).
"""

from gpfem.mesh.builders import (
                                 MeshBundle,
                                 box,
                                 notched_plate,
                                 notched_slab,
                                 rectangle,
                                 sphere_surface,
                                 t_shape,
)
from gpfem.mesh.files import load_mesh
from gpfem.mesh.size import mesh_size
from gpfem.mesh.vertices import vertex_input_ids, vertex_random
from gpfem.mesh.xdmf import read_xdmf, write_xdmf

__all__ = ["MeshBundle", "box", "load_mesh", "mesh_size", "notched_plate", "notched_slab", "read_xdmf",
           "rectangle", "sphere_surface", "t_shape", "vertex_input_ids", "vertex_random", "write_xdmf"]
