"""Meshes: gmsh builders (rectangles and boxes also by DOLFINx), user mesh files, XDMF meshes."""

from gpfem.mesh.builders import MeshBundle, box, notched_plate, rectangle, t_shape
from gpfem.mesh.files import load_mesh
from gpfem.mesh.xdmf import read_xdmf, write_xdmf

__all__ = ["MeshBundle", "box", "load_mesh", "notched_plate", "read_xdmf", "rectangle", "t_shape",
           "write_xdmf"]
