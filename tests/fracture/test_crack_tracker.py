"""The in-run crack tracker on a distributed mesh: a known damage band, serial and under ``mpiexec -n 2``.

``alpha = exp(-d / ell)`` around the segment (0.3, 0.5) -> (1, 0.2) on a 60 x 60 unit square (crossed
triangles, h = 1/60): the centre line runs from the origin (0.3, 0.5) to the right edge, length
|(0.7, -0.3)| = 0.7616. Each rank samples its own cells and one reduction assembles the grid, so every
rank gets the same numbers, and the same as one process alone.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

A, B, ELL = np.array([0.3, 0.5]), np.array([1.0, 0.2]), 0.04


def _band(x: np.ndarray) -> np.ndarray:
    p = x[:2].T
    t = np.clip(((p - A) @ (B - A)) / ((B - A) @ (B - A)), 0.0, 1.0)
    return np.exp(-np.linalg.norm(p - (A + t[:, None] * (B - A)), axis=1) / ELL)


def _measure(comm):
    from dolfinx import fem, mesh

    from gpfem.models.fracture_crack import CrackTracker

    msh = mesh.create_unit_square(comm, 60, 60, diagonal=mesh.DiagonalType.crossed)
    alpha = fem.Function(fem.functionspace(msh, ("Lagrange", 1)))
    alpha.interpolate(_band)
    tracker = CrackTracker(alpha, 0.5, 2 * ELL, origin=tuple(A))
    out = tracker.measure(alpha)
    alpha.x.array[:] = 0.1                      # below the level everywhere: no crack
    return out, tracker.measure(alpha), tracker.grid.spacing


def _check(comm):
    out, none, s = _measure(comm)
    assert out["crack_length"] == pytest.approx(math.hypot(*(B - A)), abs=2 * s)
    assert (out["crack_tip_x"], out["crack_tip_y"]) == pytest.approx(tuple(B), abs=2 * s)
    assert none["crack_length"] == 0.0 and math.isnan(none["crack_tip_x"])
    assert all(v == out for v in comm.allgather(out))   # every rank has rank 0's numbers
    return out


def test_tracker_serial():
    from mpi4py import MPI

    _check(MPI.COMM_WORLD)


@pytest.mark.mpi
def test_tracker_two_ranks_equals_one_process():
    """Under mpiexec -n 2: the numbers of one process alone (COMM_SELF on rank 0), to round-off."""
    from mpi4py import MPI

    out = _check(MPI.COMM_WORLD)
    if MPI.COMM_WORLD.rank == 0:
        alone, _, _ = _measure(MPI.COMM_SELF)
        for k in ("crack_length", "crack_tip_x", "crack_tip_y"):
            assert out[k] == pytest.approx(alone[k], abs=1e-12)
