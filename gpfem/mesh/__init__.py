"""Meshes: gmsh builders (functions of parameters that return a mesh) and user mesh files."""

from gpfem.mesh.builders import MeshBundle, box, notched_plate, rectangle, t_shape
from gpfem.mesh.files import load_mesh

__all__ = ["MeshBundle", "box", "load_mesh", "notched_plate", "rectangle", "t_shape"]
