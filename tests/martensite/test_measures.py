"""The martensite measures as functions of plain fields (gpfem.models.martensite_measures), serial and MPI."""

from __future__ import annotations

import math

from mpi4py import MPI

import numpy as np
import pytest
from dolfinx import fem

from gpfem.mesh import rectangle
from gpfem.models.martensite_analysis import plane_sums, twin_plane_sums
from gpfem.models.martensite_measures import (
    fraction_forms,
    orientation_forms,
    variant_fractions,
    wall_orientation,
    x_profile,
)


@pytest.mark.parametrize("comm_kind", ["serial", pytest.param("mpi", marks=pytest.mark.mpi)])
def test_profile_fractions_and_orientation_of_known_fields(comm_kind):
    comm = MPI.COMM_SELF if comm_kind == "serial" else MPI.COMM_WORLD
    mesh = rectangle(2.0, 1.0, 8, 4, comm=comm).mesh
    V = fem.functionspace(mesh, ("Lagrange", 1))
    e1, e2 = fem.Function(V), fem.Function(V)
    # x-profile of 2x + y: the mean over y at each x is 2x + 1/2 (9 columns of vertices)
    e1.interpolate(lambda x: 2 * x[0] + x[1])
    e2.interpolate(lambda x: 0 * x[0] + 0.25)
    prof = x_profile([e1, e2], comm)
    if comm.rank == 0:
        assert prof.shape == (9, 3)
        assert np.allclose(prof[:, 0], np.linspace(0, 2, 9))
        assert np.allclose(prof[:, 1], 2 * prof[:, 0] + 0.5) and np.allclose(prof[:, 2], 0.25)
    else:
        assert prof is None
    # the variant rule's thresholds with eta* = 1: |eta_k| > 1/3 and by 0.1 over the others
    forms = fraction_forms([e1, e2], 1.0, mesh)
    for v1, v2, expect in ((0.9, 0.2, [1, 0]), (-0.2, -0.9, [0, 1]), (0.9, 0.85, [0, 0]), (0.3, 0.0, [0, 0])):
        e1.x.array[:], e2.x.array[:] = v1, v2
        assert variant_fractions(forms, comm, 2.0) == pytest.approx(expect, abs=1e-12)
    # a wall whose normal is 30 degrees from x: eta1 - eta2 linear along that normal
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    e1.interpolate(lambda x: c * x[0] + s * x[1])
    e2.interpolate(lambda x: 0 * x[0])
    orient = wall_orientation(orientation_forms([e1, e2], mesh), comm)
    assert orient["angle_deg"] == pytest.approx(30.0, abs=1e-9)
    assert orient["coherence"] == pytest.approx(1.0, abs=1e-12)
    assert orientation_forms([e1], mesh) is None and wall_orientation(None, comm) is None


def test_twin_plane_sums_pick_the_two_largest_variants():
    rng = np.random.default_rng(3)
    vals = np.array([[0.1, 0.9, 0.8], [0.7, 0.05, -0.9], [0.2, 1.0, 0.6]])
    grads, rgrads = rng.normal(size=(3, 3, 3)), rng.normal(size=(3, 3, 3))
    vol = np.array([1.0, 2.0, 3.0])
    pairs, sums = twin_plane_sums(vals, grads, rgrads, vol)
    assert pairs == [(0, 1), (0, 2), (1, 2)] and sums.shape[0] == 3
    # cells 0 and 2 are walls of (2, 3) ordered (b, c) = (1, 2); cell 1 of (1, 3), ordered (2, 0)
    r = np.sqrt(0.5)
    sel = [0, 2]
    g = rgrads[sel, 1] - rgrads[sel, 2]
    w = ((grads[sel, 1] - grads[sel, 2]) ** 2).sum(axis=1) * vol[sel]
    assert np.allclose(sums[2], plane_sums(g, w, np.array([[0, r, r], [0, r, -r]])))
    g1 = rgrads[1, 2] - rgrads[1, 0]
    w1 = ((grads[1, 2] - grads[1, 0]) ** 2).sum() * vol[1]
    assert np.allclose(sums[1], plane_sums(g1[None], [w1], np.array([[r, 0, r], [r, 0, -r]])))
    assert np.allclose(sums[0], 0.0)
