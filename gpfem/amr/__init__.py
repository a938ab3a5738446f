"""Adaptive mesh refinement: indicators, refinement with limits, field transfer, adapted-mesh storage.

Model-independent. A model supplies a priority per cell (from :mod:`gpfem.amr.indicators`), an
:class:`AdaptiveMesh` refines (nested) or rebuilds from the base mesh within the limits, and
:mod:`gpfem.amr.transfer` moves the fields (exact on nested meshes; mass restored and damage bounds kept
otherwise). :mod:`gpfem.amr.store` turns an adapted mesh into arrays for a checkpoint and back, on any
number of ranks.
"""

from gpfem.amr.adaptive_mesh import AdaptiveMesh, AmrLimits, num_dofs
from gpfem.amr.driver import AdaptiveModel
from gpfem.amr.indicators import (
    CellExpression,
    cell_dof_values,
    cell_expression,
    dilate,
    fracture_cells,
    interface_cells,
)
from gpfem.amr.refine import Refinement, refine_cells
from gpfem.amr.store import mesh_arrays, mesh_from_arrays
from gpfem.amr.transfer import Transfer, conserve_integral, transfer, transfer_all, transfer_bounded
from gpfem.mesh.size import cell_sizes

__all__ = [
    "AdaptiveMesh",
    "AdaptiveModel",
    "AmrLimits",
    "CellExpression",
    "Refinement",
    "Transfer",
    "cell_dof_values",
    "cell_expression",
    "cell_sizes",
    "conserve_integral",
    "dilate",
    "fracture_cells",
    "interface_cells",
    "mesh_arrays",
    "mesh_from_arrays",
    "num_dofs",
    "refine_cells",
    "transfer",
    "transfer_all",
    "transfer_bounded",
]
