"""The one cell-size measure h_K = (d! |K|)^(1/d) (gpfem.mesh.size), and its three users agree."""

from __future__ import annotations

import math
import subprocess
import sys

from mpi4py import MPI

import numpy as np
import pytest

from gpfem.mesh.size import cell_sizes, mesh_size, simplex_sizes


def test_right_simplices_have_h_equal_to_their_legs():
    a = 0.3
    tri = np.array([[[0, 0], [a, 0], [0, a]], [[1, 1], [1 + a, 1], [1 + a, 1 + a]]], dtype=float)
    tet = np.array([[[0, 0, 0], [a, 0, 0], [0, a, 0], [0, 0, a]]], dtype=float)
    assert simplex_sizes(tri) == pytest.approx([a, a], rel=1e-14)
    assert simplex_sizes(tet) == pytest.approx([a], rel=1e-14)
    # an equilateral triangle of side s: d!|K| = sqrt(3)/2 s^2
    s = 2.0
    eq = np.array([[[0, 0], [s, 0], [s / 2, s * math.sqrt(3) / 2]]])
    assert simplex_sizes(eq)[0] == pytest.approx(math.sqrt(math.sqrt(3) / 2) * s, rel=1e-14)


def test_a_triangle_in_3d_has_its_planar_size():
    rng = np.random.default_rng(1)
    tri = rng.uniform(size=(20, 3, 2))
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))  # a rotation (or reflection) into 3D
    lifted = np.concatenate([tri, np.zeros((20, 3, 1))], axis=2) @ q.T + 5.0
    assert np.allclose(simplex_sizes(lifted), simplex_sizes(tri), rtol=1e-12)


def test_mesh_amr_and_crack_use_the_same_numbers():
    from gpfem.amr import cell_sizes as amr_cell_sizes
    from gpfem.crack import cell_sizes as crack_cell_sizes
    from gpfem.mesh import rectangle

    b = rectangle(1.0, 0.5, 13, 7, comm=MPI.COMM_SELF)
    m = b.mesh
    n = m.topology.index_map(2).size_local
    h = cell_sizes(m)
    assert amr_cell_sizes is cell_sizes
    xy = m.geometry.x[m.geometry.dofmaps[0][:n]][:, :, :2].reshape(-1, 2)
    assert np.array_equal(crack_cell_sizes(xy, np.arange(3 * n).reshape(n, 3)), h)
    # 13 x 7 right triangles of legs 1/13 and 1/14: h = sqrt(1/(13*14))
    assert h == pytest.approx(np.full(n, math.sqrt(1 / (13 * 14))), rel=1e-12)
    assert mesh_size(b) == float(np.quantile(h, 0.1))


def test_crack_package_loads_without_mpi_or_dolfinx():
    code = ("import sys, gpfem.crack, gpfem.mesh.size\n"
            "print([m for m in ('mpi4py', 'dolfinx', 'petsc4py', 'gmsh', 'pyvista') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.mpi
def test_bounding_box_is_the_whole_domain_on_every_rank():
    """Each rank holds part of the mesh; the box is the domain's, the same on every rank."""
    from mpi4py import MPI

    from gpfem.mesh import bounding_box, rectangle

    lo, hi = bounding_box(rectangle(2.0, 0.5, 8, 4, comm=MPI.COMM_WORLD))
    np.testing.assert_allclose(lo, [0.0, 0.0], atol=1e-14)
    np.testing.assert_allclose(hi, [2.0, 0.5], atol=1e-14)
    assert MPI.COMM_WORLD.allgather(tuple(hi)) == [tuple(hi)] * MPI.COMM_WORLD.size
