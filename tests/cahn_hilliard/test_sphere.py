"""Cahn-Hilliard on a sphere surface (PFHub 1d's domain): a manifold mesh, the surface gradient, growth rates.

Spherical harmonics are the eigenfunctions of the surface Laplacian, -Lap_s Y_l = l(l + 1)/R^2 Y_l, so a
small perturbation c0 + delta P_l(z/R) grows at omega = -M k^2 (f''(c0) + kappa k^2) with
k^2 = l(l + 1)/R^2, exactly as a cosine mode on a flat domain.
"""

import math

from mpi4py import MPI

import numpy as np
import pytest
import ufl
from dolfinx import fem
from numpy.polynomial import legendre

from gpfem.app.parameters import resolve
from gpfem.drivers.stepping import AdaptiveStepper, StepControl
from gpfem.mesh import sphere_surface
from gpfem.models.cahn_hilliard import CahnHilliard
from gpfem.models.cahn_hilliard_spec import PARAMETERS, PRESETS

R = 5.0


@pytest.fixture(scope="module")
def sphere():
    return sphere_surface(R, 0.25, comm=MPI.COMM_WORLD)


def _integral(mesh, expr):
    return mesh.comm.allreduce(fem.assemble_scalar(fem.form(expr * ufl.dx(domain=mesh))))


def test_manifold_mesh_area_and_surface_gradient(sphere):
    mesh = sphere.mesh
    assert (mesh.geometry.dim, mesh.topology.dim) == (3, 2)
    area = _integral(mesh, fem.Constant(mesh, 1.0))
    assert area == pytest.approx(4 * math.pi * R**2, rel=1e-3)  # flat triangles: measured -5.1e-4
    # grad of z/R on the sphere is tangential: |grad_s z/R|^2 = (1 - z^2/R^2)/R^2, integral 8 pi/3
    V = fem.functionspace(mesh, ("Lagrange", 1))
    z = fem.Function(V)
    z.interpolate(lambda x: x[2] / R)
    g2 = _integral(mesh, ufl.inner(ufl.grad(z), ufl.grad(z)))
    assert g2 == pytest.approx(8 * math.pi / 3, rel=2e-3)  # the full 3D gradient would give 4 pi


def _omega(p, k2):
    a, b, c0, rho = p["c_alpha"], p["c_beta"], p["c0"], p["rho_s"]
    fpp = rho * (2 * (b - c0) ** 2 - 8 * (c0 - a) * (b - c0) + 2 * (c0 - a) ** 2)
    return -p["mobility"] * k2 * (fpp + p["kappa"] * k2)


@pytest.mark.parametrize("comm_kind", ["serial", pytest.param("mpi", marks=pytest.mark.mpi)])
@pytest.mark.parametrize(("ell", "t_end", "dt"), [(2, 2.0, 0.05), (4, 0.4, 0.01)])
def test_growth_rate_of_a_spherical_harmonic(sphere, ell, t_end, dt, comm_kind, request):
    """l = 2 (k^2 = 0.24, f'' + kappa k^2 < 0: grows, omega = +0.384) and l = 4 (k^2 = 0.8: decays, -3.2)."""
    p = resolve(PARAMETERS, {"geometry": "sphere", "radius": R, "h": 0.25, "energy_check": False})
    model = CahnHilliard(sphere, p)
    request.addfinalizer(model.close)
    coef = np.zeros(ell + 1)
    coef[ell] = 1.0
    c_init = fem.Function(model.V)
    c_init.interpolate(lambda x: 0.5 + 1e-5 * legendre.legval(x[2] / np.linalg.norm(x, axis=0), coef))
    model.set_initial(c_init)
    mesh = sphere.mesh
    x = ufl.SpatialCoordinate(mesh)
    y_l = legendre.legval(x[2] / ufl.sqrt(ufl.dot(x, x)), coef)
    norm = _integral(mesh, y_l * y_l)

    def amplitude():
        return _integral(mesh, (ufl.split(model.u)[0] - 0.5) * y_l) / norm

    a0 = amplitude()
    assert a0 == pytest.approx(1e-5, rel=5e-3)  # measured -3.1e-3 (l = 4)
    m0 = model.values["mass"]
    stepper = AdaptiveStepper(model, StepControl(dt=dt, dt_min=dt, dt_max=dt, grow=1.0))
    t = 0.0
    while t < t_end - 1e-12:
        t, _, _ = stepper.step(t, t_end)
    measured = math.log(amplitude() / a0) / t
    expected = _omega(p, ell * (ell + 1) / R**2)
    assert measured == pytest.approx(expected, rel=0.02)
    assert abs(model.values["mass"] - m0) < 1e-10 * abs(m0)


def test_pfhub_1d_preset_and_initial_condition():
    """PFHub 1d: radius 100, eps 0.05, phi = arctan(y/x) in [-pi/2, pi/2] as PFHub's own figure has it."""
    from gpfem.models.cahn_hilliard import _pfhub1d

    p = resolve(PARAMETERS, PRESETS["pfhub-1d"])
    assert (p["geometry"], p["radius"], p["initial"], p["epsilon"]) == ("sphere", 100.0, "pfhub1d", 0.05)
    rng = np.random.default_rng(3)
    pts = rng.normal(size=(3, 1000))
    th = np.arccos(pts[2] / np.linalg.norm(pts, axis=0))
    ph = np.arctan(pts[1] / pts[0])
    ref = (np.cos(8 * th) * np.cos(15 * ph) + (np.cos(12 * th) * np.cos(10 * ph)) ** 2
           + np.cos(2.5 * th - 1.5 * ph) * np.cos(7 * th - 2 * ph))
    assert np.allclose(_pfhub1d(pts), ref, atol=1e-12)
    assert np.isfinite(_pfhub1d(np.array([[0.0, 0.0], [0.0, 3.0], [1.0, 0.0]]))).all()  # pole and x = 0
