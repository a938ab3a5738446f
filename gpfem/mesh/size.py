"""Element sizes of a distributed mesh, reduced over ranks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["mesh_size"]


def mesh_size(bundle: Any, q: float = 0.1) -> float:
    """A robust element size ``h = (d! |K|)^(1/d)`` (the leg of a right simplex of the same volume).

    The smallest over ranks of the local ``q``-quantile, so that refined bands and not the few tiny cells
    at a notch tip set it.

    Args:
        bundle: A :class:`~gpfem.mesh.MeshBundle` (or anything with ``.mesh``).
        q: The quantile of the cell sizes.
    """
    from mpi4py import MPI

    import ufl
    from dolfinx import fem

    m = bundle.mesh
    tdim = m.topology.dim
    n = m.topology.index_map(tdim).size_local
    DG0 = fem.functionspace(m, ("DG", 0))
    vol = fem.assemble_vector(fem.form(ufl.TestFunction(DG0) * ufl.dx)).array[:n]
    h = (math.factorial(tdim) * vol) ** (1.0 / tdim)
    local = float(np.quantile(h, q)) if n else np.inf
    return float(m.comm.allreduce(local, op=MPI.MIN))
