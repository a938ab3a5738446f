r"""The phase-field fracture energy: AT1/AT2 dissipation, degradation, strain-energy splits.

Total energy of a displacement ``u`` and a damage field ``alpha`` in [0, 1]

.. math::
    E(u, \alpha) = \int_\Omega g(\alpha)\,\psi^+(\varepsilon(u)) + \psi^-(\varepsilon(u))
      + \frac{G_c}{c_w}\Big(\frac{w(\alpha)}{\ell} + \ell |\nabla\alpha|^2\Big)\,dx,
    \qquad g(\alpha) = (1 - \alpha)^2 + k_{res},

with AT1 (``w = alpha``, ``c_w = 8/3``) or AT2 (``w = alpha^2``, ``c_w = 2``). The gradient term is the
shared :func:`~gpfem.core.energy.gradient_penalty` with ``kappa = 2 Gc ell / c_w``.

Splits of the strain energy ``psi = lambda/2 tr(eps)^2 + mu eps:eps``: ``none`` (``psi+ = psi``),
``voldev`` (Amor et al. 2009: ``psi+ = K/2 <tr eps>_+^2 + mu dev eps : dev eps``) and ``spectral`` (Miehe
et al. 2010: ``psi+ = lambda/2 <tr eps>_+^2 + mu sum <eps_i>_+^2``, 2D only). Plane strain embeds the 2D
strain in 3D (``eps_zz = 0``); plane stress uses the 2D law with ``lambda* = 2 lambda mu / (lambda + 2 mu)``.

Material parameters may be numbers or ``fem.Constant`` s; the model passes constants, so a sweep over
``E, nu, Gc, ell, k_res`` compiles no new form.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import ufl

from gpfem.core.energy import Energy, gradient_penalty
from gpfem.core.errors import ParameterError

if TYPE_CHECKING:
    from dolfinx import fem
    from ufl.core.expr import Expr

__all__ = ["c_w", "critical_stress", "elastic_densities", "phase_field_energy", "strain_energy_split"]


def c_w(model: str) -> float:
    """Normalisation constant ``c_w = 4 int_0^1 sqrt(w)``: 8/3 for AT1, 2 for AT2."""
    return 8.0 / 3.0 if model == "AT1" else 2.0


def critical_stress(model: str, E: float, Gc: float, ell: float) -> float:
    """Peak stress of the homogeneous 1D solution.

    AT1: ``sqrt(3 Gc E / (8 ell))`` (the elastic limit); AT2: ``(9/16) sqrt(E Gc / (3 ell))`` (at
    ``alpha = 1/4``).
    """
    if model == "AT1":
        return math.sqrt(3.0 * Gc * E / (8.0 * ell))
    return 9.0 / 16.0 * math.sqrt(E * Gc / (3.0 * ell))


def _pos(x: Expr) -> Expr:
    return 0.5 * (x + abs(x))  # type: ignore[arg-type]  # (ufl's Expr defines __abs__ at run time)


def _neg(x: Expr) -> Expr:
    return 0.5 * (x - abs(x))  # type: ignore[arg-type]


def strain_energy_split(eps: Expr, lmbda: Expr | float, mu: Expr | float, split: str,
                        dim3: bool) -> tuple[Expr, Expr]:
    r"""The split ``(psi+, psi-)`` of ``psi = lambda/2 tr(eps)^2 + mu eps:eps``.

    Args:
        eps: Strain tensor (2x2 in 2D, 3x3 in 3D).
        lmbda: Lame's first parameter (already the plane-stress one in plane stress).
        mu: Shear modulus.
        split: ``none``, ``voldev`` or ``spectral``.
        dim3: Whether ``eps`` is the 2D block of a 3D plane-strain strain (volumetric/deviatoric parts
            are then those of the 3D tensor).

    Returns:
        The UFL densities ``psi+`` (degraded) and ``psi-`` (not degraded).
    """
    d = eps.ufl_shape[0]
    tr = ufl.tr(eps)
    if split == "none":
        return 0.5 * lmbda * tr**2 + mu * ufl.inner(eps, eps), ufl.as_ufl(0.0)
    if split == "voldev":
        n = 3 if (dim3 or d == 3) else d
        K = lmbda + 2.0 * mu / n
        dev_sq = ufl.inner(eps, eps) - tr**2 / n
        return 0.5 * K * _pos(tr) ** 2 + mu * dev_sq, 0.5 * K * _neg(tr) ** 2
    if d != 2:
        raise ParameterError("split", "the spectral split is implemented in 2D only; use voldev in 3D")
    # Principal strains of the 2D block (eps_zz = 0 in plane strain adds nothing to sum <eps_i>^2).
    # The tiny shift keeps the square root differentiable at equal eigenvalues; it enters only as
    # (e1 - e2) d^2 r, which stays finite.
    r = ufl.sqrt(0.25 * (eps[0, 0] - eps[1, 1]) ** 2 + eps[0, 1] ** 2 + 1e-24)
    e1, e2 = 0.5 * tr + r, 0.5 * tr - r
    plus = 0.5 * lmbda * _pos(tr) ** 2 + mu * (_pos(e1) ** 2 + _pos(e2) ** 2)
    minus = 0.5 * lmbda * _neg(tr) ** 2 + mu * (_neg(e1) ** 2 + _neg(e2) ** 2)
    return plus, minus


def elastic_densities(
    u: fem.Function, E: Expr | float, nu: Expr | float, split: str = "none", plane_stress: bool = False
) -> tuple[Expr, Expr]:
    """``(psi+, psi-)`` of the displacement ``u`` (plane strain, or plane stress in 2D).

    :func:`strain_energy_split` with the Lame parameters of ``E`` and ``nu``.
    """
    gdim = u.ufl_shape[0]
    mu = E / (2.0 * (1.0 + nu))
    lmbda = E * nu / ((1.0 + nu) * (1.0 - 2.0 * nu))
    if gdim == 2 and plane_stress:
        lmbda = 2.0 * lmbda * mu / (lmbda + 2.0 * mu)
    eps = ufl.sym(ufl.grad(u))
    return strain_energy_split(eps, lmbda, mu, split, gdim == 2 and not plane_stress)


def phase_field_energy(
    u: fem.Function,
    alpha: fem.Function,
    E: Expr | float,
    nu: Expr | float,
    Gc: Expr | float,
    ell: Expr | float,
    k_res: Expr | float = 1e-6,
    model: str = "AT2",
    split: str = "none",
    plane_stress: bool = False,
    dx: ufl.Measure | None = None,
) -> Energy:
    """The energy ``elastic + dissipation + gradient`` of the module docstring as an :class:`Energy`.

    Args:
        u: Displacement (vector function).
        alpha: Damage (scalar function).
        E: Young's modulus.
        nu: Poisson's ratio.
        Gc: Fracture toughness.
        ell: Regularisation length.
        k_res: Residual stiffness.
        model: ``AT1`` or ``AT2``.
        split: ``none``, ``voldev`` or ``spectral``.
        plane_stress: In 2D, plane stress instead of plane strain (ignored in 3D).
        dx: The measure (``ufl.dx`` on the mesh of ``u`` by default).

    Returns:
        The energy with terms ``elastic``, ``dissipation`` (``Gc/c_w w(alpha)/ell``) and ``gradient``.
    """
    psi_plus, psi_minus = elastic_densities(u, E, nu, split, plane_stress)
    g = (1.0 - alpha) ** 2 + k_res
    w = alpha if model == "AT1" else alpha**2
    cw = c_w(model)
    if dx is None:
        dx = ufl.dx(domain=u.function_space.mesh)
    return Energy(
        dx,
        elastic=g * psi_plus + psi_minus,
        dissipation=Gc / cw * w / ell,
        gradient=gradient_penalty(alpha, 2.0 * Gc * ell / cw),
    )
