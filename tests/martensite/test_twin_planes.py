"""The {110} twin-plane statistics (NumPy, no DOLFINx): exact families, isotropic normals, additivity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gpfem.models.martensite_analysis import (
    FAMILY_110,
    plane_statistics,
    plane_sums,
    random_fraction_110,
)


def test_exact_110_normals_all_within_every_angle_and_cubic_moment_one_half():
    rng = np.random.default_rng(1)
    g = FAMILY_110[rng.integers(0, 6, 500)] * rng.uniform(0.1, 3.0, (500, 1)) * rng.choice([-1, 1], (500, 1))
    st = plane_statistics(plane_sums(g, rng.uniform(0.5, 2.0, 500)))
    assert st["within_110"] == {"5": pytest.approx(1.0), "10": pytest.approx(1.0)}
    assert st["cubic_moment"] == pytest.approx(0.5)


def test_100_and_111_normals_are_far_from_110():
    st = plane_statistics(plane_sums(np.eye(3), np.ones(3)))
    assert st["within_110"]["10"] == 0.0 and st["cubic_moment"] == pytest.approx(1.0)
    assert st["hist_110"][-1] == pytest.approx(1.0)  # 45 degrees: the last bin
    st = plane_statistics(plane_sums(np.array([[1.0, 1.0, 1.0], [1.0, -1.0, 1.0]]), np.ones(2)))
    assert st["within_110"]["10"] == 0.0 and st["cubic_moment"] == pytest.approx(1 / 3)


def test_isotropic_normals_give_the_random_fractions_and_three_fifths():
    rng = np.random.default_rng(0)
    g = rng.normal(size=(400_000, 3))
    st = plane_statistics(plane_sums(g, np.ones(len(g))))
    assert st["cubic_moment"] == pytest.approx(0.6, abs=3e-3)
    for a in (5.0, 10.0):
        assert st["within_110"][f"{a:g}"] == pytest.approx(random_fraction_110(a), rel=0.03)
    assert random_fraction_110(10.0) == pytest.approx(6 * (1 - math.cos(math.radians(10))))


def test_pair_normals_and_sums_add_over_parts():
    pair = np.array([[1.0, 1.0, 0.0], [1.0, -1.0, 0.0]]) / math.sqrt(2)
    g = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.02, -1.0], [0.0, 0.0, 0.0]])
    w = np.array([1.0, 2.0, 3.0, 5.0])
    whole = plane_sums(g, w, pair)
    parts = plane_sums(g[:2], w[:2], pair) + plane_sums(g[2:], w[2:], pair)
    assert np.allclose(whole, parts)  # what the MPI reduction relies on
    st = plane_statistics(whole)
    assert st["weight"] == 6.0  # the zero vector carries no direction and no weight
    assert st["within_110"]["5"] == pytest.approx(1.0)  # (1, 0.02, -1) is 0.8 degrees from (1, 0, -1)
    assert st["within_pair"]["5"] == pytest.approx(1 / 6)  # only (1, 1, 0) is a plane of this pair
    with pytest.raises(ValueError, match="not a bin edge"):
        plane_statistics(whole, within_deg=(6.0,))
