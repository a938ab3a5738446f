"""Crack analysis of a sampled 2D damage field: its centre line, tip and length (NumPy and SciPy only).

:mod:`~gpfem.crack.grid` (the sampling grid, exact P1 interpolation at its points),
:mod:`~gpfem.crack.skeleton` (thinning, tree, spur pruning), :mod:`~gpfem.crack.centerline` (ridge
following, main path, tip, smoothing, length: :class:`Centerline`). No DOLFINx and no files here: the
running measurement is :mod:`gpfem.models.fracture_crack`, the files :mod:`gpfem.io.crack_files`.
"""

from gpfem.crack.centerline import (
    Centerline,
    centerline_from_mesh,
    extract_centerline,
    path_angle,
    point_at,
)
from gpfem.crack.grid import SamplingGrid, cell_sizes, default_spacing

__all__ = ["Centerline", "SamplingGrid", "cell_sizes", "centerline_from_mesh", "default_spacing",
           "extract_centerline", "path_angle", "point_at"]
