"""Stand-in for the ``dolfinx_solver`` module of the PyPI wheel, for images that build DOLFINx from source.

gpfem imports ``dolfinx_solver`` first only so that libmpi is loaded before DOLFINx and petsc4py; a
source build needs nothing more than ``mpi4py.MPI`` imported first.
"""

from mpi4py import MPI

__all__ = ["DOLFINX_VERSION", "MPI", "__version__"]

DOLFINX_VERSION = "0.11.0"
__version__ = "0.11.0+source"
