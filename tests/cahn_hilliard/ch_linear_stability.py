"""Cahn-Hilliard linear stability about a uniform c0: analytic growth rate, measured amplitude."""

import ufl
from dolfinx import fem


def omega(p, k):
    """Growth rate of a small mode cos(kx) about c0: -M k^2 (f''(c0) + kappa k^2)."""
    a, b, c0, rho = p["c_alpha"], p["c_beta"], p["c0"], p["rho_s"]
    fpp = rho * (2 * (b - c0) ** 2 - 8 * (c0 - a) * (b - c0) + 2 * (c0 - a) ** 2)
    return -p["mobility"] * k**2 * (fpp + p["kappa"] * k**2)


def amplitude(model, k, c0):
    """The cos(kx) Fourier amplitude of c - c0 over the domain (collective)."""
    mesh = model.bundle.mesh
    x = ufl.SpatialCoordinate(mesh)
    c = ufl.split(model.u)[0]
    area = model.comm.allreduce(fem.assemble_scalar(fem.form(1.0 * ufl.dx(domain=mesh))))
    val = fem.assemble_scalar(fem.form((c - c0) * ufl.cos(k * x[0]) * ufl.dx))
    return 2.0 * model.comm.allreduce(val) / area
