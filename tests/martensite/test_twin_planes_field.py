"""The 3D twin-plane measure on a model's fields (``Martensite.twin_planes``): prescribed walls of known
normal, serial and under ``mpiexec -n 2`` (the sums are reduced over ranks).

A run from noise is not used here: the smallest clamped box in which variants form from noise at the
preset's h (12^3 elements, 13,182 DOFs) takes minutes; an 8^3 box settles into the uniform three-variant
mixture, with no walls to measure (docs/martensite.md).
"""

from __future__ import annotations

import math

from mpi4py import MPI

import numpy as np
import pytest

from gpfem.app.parameters import resolve
from gpfem.mesh import box
from gpfem.models.martensite import Martensite
from gpfem.models.martensite_spec import PARAMETERS, PRESETS

N, L = 6, 6.0


@pytest.fixture(scope="module")
def model():
    p = resolve(PARAMETERS, PRESETS["cubic-tetragonal-3d"], {"Lx": L, "Ly": L, "Lz": L,
                                                             "nx": N, "ny": N, "nz": N})
    m = Martensite(box(L, L, L, N, N, N, comm=MPI.COMM_WORLD), p, grid=(N, N, N, L, L, L))
    yield m
    m.solver.close()


def _set(model, normal, profile):
    """eta_2, eta_3 = (1 +- profile(s))/2 with s = n . (x - centre), |profile| < 1, and eta_1 = 0."""
    n = np.asarray(normal, dtype=float)
    n /= np.linalg.norm(n)
    s = (model.S.tabulate_dof_coordinates() - 0.5 * L) @ n
    vals = [0 * s, 0.5 + 0.5 * profile(s), 0.5 - 0.5 * profile(s)]
    for k in range(3):
        model.w.x.array[model._eta_maps[k]] = vals[k]
    model.w.x.scatter_forward()
    return model.twin_planes()


@pytest.mark.parametrize("comm_kind", ["serial", pytest.param("mpi", marks=pytest.mark.mpi)])
def test_a_wall_on_a_110_plane_and_one_on_a_100_plane(model, comm_kind):
    # linear profile: the P1 gradient is exact, 0.2 n in every cell, so every number is known
    tp = _set(model, (0, 1, 1), lambda s: 0.2 * s)
    assert set(tp) == {"all", "1-2", "1-3", "2-3"}
    allp, pair = tp["all"], tp["2-3"]
    assert allp["weight"] == pytest.approx(0.2**2 * L**3, rel=1e-10)  # sum of |g|^2 vol over all ranks
    assert pair["weight"] == pytest.approx(allp["weight"], rel=1e-12) and tp["1-2"]["weight"] == 0.0
    assert allp["within_110"]["5"] == pytest.approx(1.0) and allp["within_pair"]["5"] == pytest.approx(1.0)
    assert allp["cubic_moment"] == pytest.approx(0.5)
    assert allp["random_within_110"]["10"] == pytest.approx(6 * (1 - math.cos(math.radians(10))))

    tp = _set(model, (0, 1, 0), lambda s: 0.2 * s)  # {100}: 45 degrees from the nearest {110} normal
    assert tp["all"]["within_110"]["10"] == 0.0 and tp["all"]["cubic_moment"] == pytest.approx(1.0)
    assert tp["all"]["hist_110"][-1] == pytest.approx(1.0)


@pytest.mark.parametrize("comm_kind", ["serial", pytest.param("mpi", marks=pytest.mark.mpi)])
@pytest.mark.parametrize("normal", [(0, 1, 1), (0, 1, -1), (1, 0, -1), (1, -1, 0)])
def test_a_diffuse_wall_on_any_110_plane_is_found_within_5_degrees(model, normal, comm_kind):
    """A tanh wall of width 1.3 (the 234 wall's) on h = 1: the recovered normal finds every {110} plane
    (measured: 1.000 within 5 degrees); the raw cell gradients found (0, 1, -1) for 0.40 of the weight only
    (the mesh's diagonals run along (0, 1, 1))."""
    tp = _set(model, normal, lambda s: np.tanh(s / 1.3))
    assert tp["2-3"]["weight"] == pytest.approx(tp["all"]["weight"], rel=1e-12)
    assert tp["all"]["within_110"]["5"] > 0.99
    # variants 2 and 3 are compatible across (0, 1, +-1) only: (1, 0, -1) and (1, -1, 0) are other pairs'
    assert tp["2-3"]["within_pair"]["5"] == (pytest.approx(1.0, abs=0.01) if normal[0] == 0 else 0.0)
    assert tp["all"]["cubic_moment"] == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("comm_kind", ["serial", pytest.param("mpi", marks=pytest.mark.mpi)])
def test_a_diffuse_wall_23_degrees_off_110_is_not_counted(model, comm_kind):
    tilted = _set(model, (0, 1, -0.4), lambda s: np.tanh(s / 1.3))  # 23.2 degrees from (0, 1, -1)
    assert tilted["all"]["weight"] > 0 and tilted["all"]["within_110"]["10"] < 0.02  # measured 0.0
