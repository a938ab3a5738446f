"""Crack centre line on synthetic damage fields with a known crack (NumPy only: no FE solve, a few seconds).

The fields are ``alpha = exp(-d / ell)`` (the AT2 profile), ``d`` the distance to a known crack, on a
perturbed Delaunay triangulation of the unit square (121 x 121 vertices, h ~ 0.0083, so the sampling grid
has spacing s ~ 0.0033). The centre line of ``{alpha >= 0.5}`` must be that crack: where the crack ends
inside the body, the line goes on along the ridge while alpha >= 0.5, i.e. ``ell ln 2`` beyond the end.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial import Delaunay

from gpfem.crack import SamplingGrid, centerline_from_mesh, extract_centerline
from gpfem.io.crack_files import write_centerline_csv, write_centerline_vtp

ELL = 0.015
EXT = ELL * math.log(2.0)  # alpha = 0.5 lies ell ln 2 beyond a crack's end


@pytest.fixture(scope="module")
def mesh():
    rng = np.random.default_rng(0)
    n = 120
    xs = np.linspace(0.0, 1.0, n + 1)
    X, Y = np.meshgrid(xs, xs)
    pts = np.column_stack([X.ravel(), Y.ravel()])
    interior = (pts > 1e-9) & (pts < 1 - 1e-9)
    pts += rng.uniform(-0.3, 0.3, pts.shape) / n * interior
    return pts, Delaunay(pts).simplices


def _dist_to_polyline(p: np.ndarray, poly: np.ndarray) -> np.ndarray:
    d = np.full(len(p), np.inf)
    for a, b in zip(poly[:-1], poly[1:], strict=True):
        ab = b - a
        t = np.clip(((p - a) @ ab) / (ab @ ab), 0.0, 1.0)
        d = np.minimum(d, np.linalg.norm(p - (a + t[:, None] * ab), axis=1))
    return d


def _length(poly: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(poly, axis=0), axis=1).sum())


def _centerline(mesh, cracks, origin):
    pts, tri = mesh
    d = np.min([_dist_to_polyline(pts, c) for c in cracks], axis=0)
    return centerline_from_mesh(pts, tri, np.exp(-d / ELL), 0.5, 2 * ELL, origin)


def test_grid_interpolates_p1_exactly(mesh):
    """A linear field is reproduced at every grid point; the grid's corners are the box's corners."""
    pts, tri = mesh
    grid = SamplingGrid((0.0, 1.0, 0.0, 1.0), 0.01)
    vals = grid.sample(1.0 + 2.0 * pts[:, 0] - 3.0 * pts[:, 1], grid.locate(pts, tri))
    iy, ix = np.mgrid[0:grid.ny, 0:grid.nx]
    xy = grid.coordinates(iy.ravel(), ix.ravel())
    assert np.isfinite(vals).all()
    assert np.abs(vals.ravel() - (1.0 + 2.0 * xy[:, 0] - 3.0 * xy[:, 1])).max() < 1e-12
    assert (grid.x0 + (grid.nx - 1) * grid.sx, grid.y0 + (grid.ny - 1) * grid.sy) == pytest.approx((1, 1))


def test_sent_like_crack_from_notch_tip_to_edge(mesh):
    """Notch tip (0.5, 0.5) to the right edge: one branch, length 0.5, straight on y = 0.5, tip on x = 1."""
    cl = _centerline(mesh, [np.array([[0.5, 0.5], [1.0, 0.5]])], origin=(0.5, 0.5))
    s = cl.spacing
    assert len(cl.branches) == 1
    assert cl.length == pytest.approx(0.5, abs=s)
    assert cl.tip == pytest.approx((1.0, 0.5), abs=s)
    assert cl.start == pytest.approx((0.5, 0.5), abs=s)
    assert np.abs(cl.branches[0][:, 1] - 0.5).max() < s


@pytest.mark.parametrize("angle", [-30.0, -60.0, 20.0])
def test_oblique_crack_ending_inside(mesh, angle):
    """A straight crack of length 0.35 at an angle: length 0.35 + ell ln 2 within 1%, tip within 2 s."""
    a = np.array([0.5, 0.5])
    e = np.array([math.cos(math.radians(angle)), math.sin(math.radians(angle))])
    b = a + 0.35 * e
    cl = _centerline(mesh, [np.array([a, b])], origin=tuple(a))
    assert cl.length == pytest.approx(0.35 + EXT, rel=0.01)
    assert np.linalg.norm(np.subtract(cl.tip, b + EXT * e)) < 2 * cl.spacing
    # the measured direction of the path
    d = np.subtract(cl.tip, cl.start)
    assert math.degrees(math.atan2(d[1], d[0])) == pytest.approx(angle, abs=1.0)


def test_curved_crack_length(mesh):
    """A quarter circle of radius 0.3 from the boundary: length 0.3 pi/2 + ell ln 2 within 1%."""
    th = np.linspace(0.0, math.pi / 2, 200)
    arc = np.column_stack([1.0 - 0.3 * np.sin(th), 0.3 * np.cos(th) + 0.2])[::-1]   # from (0.7, 0.2) ...
    arc = arc[::-1]                                                                 # ... from (1.0, 0.5)
    cl = _centerline(mesh, [arc], origin=(1.0, 0.5))
    assert cl.length == pytest.approx(0.3 * math.pi / 2 + EXT, rel=0.01)
    assert cl.start == pytest.approx((1.0, 0.5), abs=cl.spacing)
    assert cl.tip[1] < 0.2 + cl.spacing


def test_branched_crack(mesh):
    """A crack that forks: a main path and a side branch, total length of the three segments."""
    fork = np.array([0.5, 0.5])
    main = np.array([[0.1, 0.5], fork, [0.9, 0.7]])
    side = np.array([fork, [0.8, 0.2]])
    cl = _centerline(mesh, [main, side], origin=(0.1, 0.5))
    exact = _length(main) + _length(side) + 2 * EXT
    assert len(cl.branches) == 2
    assert cl.length == pytest.approx(exact, rel=0.02)
    # the tip is the end farthest along the path from the origin: the end of the longer arm, (0.9, 0.7)
    assert np.linalg.norm(np.subtract(cl.tip, [0.9, 0.7])) < EXT + 2 * cl.spacing


def test_plateau_and_no_crack():
    """A band with alpha = 1 over several grid points is reduced to its middle; no damage: no line."""
    grid = SamplingGrid((0.0, 1.0, 0.0, 0.4), 0.005)
    y = grid.y0 + np.arange(grid.ny) * grid.sy
    x = grid.x0 + np.arange(grid.nx) * grid.sx
    d = np.maximum(np.abs(y[:, None] - 0.2) - 0.02, 0.0) + 0.0 * x[None, :]
    cl = extract_centerline(np.exp(-d / ELL), grid, 0.5, 2 * ELL)
    assert cl.length == pytest.approx(1.0, abs=grid.sx)
    assert np.abs(cl.branches[0][:, 1] - 0.2).max() < 0.5 * grid.sy
    empty = extract_centerline(np.full(grid.shape, 0.1), grid, 0.5, 2 * ELL)
    assert empty.length == 0.0 and not empty.branches and math.isnan(empty.tip[0])


def test_files_open_in_pyvista(mesh, tmp_path):
    """``crack_path.vtp`` has one line per branch with the branch ids; the CSV has the same points."""
    pv = pytest.importorskip("pyvista")
    cl = _centerline(mesh, [np.array([[0.1, 0.5], [0.5, 0.5], [0.9, 0.7]]),
                            np.array([[0.5, 0.5], [0.8, 0.2]])], origin=(0.1, 0.5))
    poly = pv.read(write_centerline_vtp(tmp_path / "c.vtp", cl))
    assert poly.n_lines == len(cl.branches) == 2
    assert list(poly.cell_data["branch"]) == [0, 1]
    assert poly.n_points == sum(len(b) for b in cl.branches)
    rows = np.loadtxt(write_centerline_csv(tmp_path / "c.csv", cl), delimiter=",", skiprows=1)
    assert rows.shape == (poly.n_points, 3)
    assert np.allclose(rows[:, 1:], np.asarray(poly.points)[:, :2])
