r"""The phase-field fracture energy: AT1/AT2 dissipation, degradation, strain-energy splits.

Total energy of a displacement ``u`` and a damage field ``alpha`` in [0, 1]

.. math::
    E(u, \alpha) = \int_\Omega g(\alpha)\,\psi^+(\varepsilon(u)) + \psi^-(\varepsilon(u))
      + \frac{G_c}{c_w}\Big(\frac{w(\alpha)}{\ell} + \ell |\nabla\alpha|^2\Big)\,dx,
    \qquad g(\alpha) = (1 - \alpha)^2 + k_{res},

with AT1 (``w = alpha``, ``c_w = 8/3``) or AT2 (``w = alpha^2``, ``c_w = 2``). The gradient term is the
shared :func:`~gpfem.fe.energy.gradient_penalty` with ``kappa = 2 Gc ell / c_w``.

Splits of the strain energy ``psi = lambda/2 tr(eps)^2 + mu eps:eps``: ``none`` (``psi+ = psi``),
``voldev`` (Amor et al. 2009: ``psi+ = K/2 <tr eps>_+^2 + mu dev eps : dev eps``) and ``spectral`` (Miehe
et al. 2010: ``psi+ = lambda/2 <tr eps>_+^2 + mu sum <eps_i>_+^2``; the principal strains in closed form,
:func:`eigenvalues_2x2` and :func:`eigenvalues_3x3`). Plane strain embeds the 2D strain in 3D
(``eps_zz = 0``); plane stress uses the 2D law with ``lambda* = 2 lambda mu / (lambda + 2 mu)``.

Material parameters may be numbers or ``fem.Constant`` s; the model passes constants, so a sweep over
``E, nu, Gc, ell, k_res`` compiles no new form.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import ufl

from gpfem.fe.energy import Energy, gradient_penalty

if TYPE_CHECKING:
    from dolfinx import fem
    from ufl.core.expr import Expr

__all__ = [
    "EIG_SHIFT", "EIG_ACOS_SHRINK", "c_w", "critical_stress", "eigenvalues_2x2", "eigenvalues_3x3",
    "elastic_densities", "phase_field_energy", "strain_energy_split",
]

#: Added to squared strain magnitudes under square roots and divisions (strain^2 units): at equal
#: eigenvalues the closed forms stay finite and differentiable, and it moves the eigenvalues by at most
#: about ``sqrt(EIG_SHIFT)`` = 1e-12 (absolute strain) where they are all equal, far less elsewhere.
EIG_SHIFT = 1e-24

#: The argument of ``acos`` in :func:`eigenvalues_3x3` is scaled by ``1 - EIG_ACOS_SHRINK``: at a double
#: eigenvalue (argument +-1) ``acos``'s derivative stays finite (about ``1/sqrt(2 EIG_ACOS_SHRINK)``). The
#: two equal eigenvalues then split by about ``sqrt(2 EIG_ACOS_SHRINK)`` of their distance to the third
#: (measured: 4e-6 relative), but a symmetric function of the three (the split's energy, and its
#: derivative, the stress) moves only to second order (measured: 2e-11 relative).
EIG_ACOS_SHRINK = 1e-10


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
    e = eigenvalues_2x2(eps) if d == 2 else eigenvalues_3x3(eps)
    # (plane strain: eps_zz = 0 adds nothing to sum <eps_i>^2)
    plus = 0.5 * lmbda * _pos(tr) ** 2 + mu * sum(_pos(ei) ** 2 for ei in e)
    minus = 0.5 * lmbda * _neg(tr) ** 2 + mu * sum(_neg(ei) ** 2 for ei in e)
    return plus, minus


def eigenvalues_2x2(A: Any) -> tuple[Any, Any]:
    """Eigenvalues ``(e1 >= e2)`` of a symmetric 2x2 UFL tensor, in closed form.

    ``e = tr/2 +- r`` with ``r = sqrt(((A00 - A11)/2)^2 + A01^2 + EIG_SHIFT)``: the shift keeps the square
    root differentiable at equal eigenvalues; it enters only as ``(e1 - e2) dr``, which stays finite.
    """
    r = ufl.sqrt(0.25 * (A[0, 0] - A[1, 1]) ** 2 + A[0, 1] ** 2 + EIG_SHIFT)
    m = 0.5 * ufl.tr(A)
    return m + r, m - r


def eigenvalues_3x3(A: Any, shrink: float = EIG_ACOS_SHRINK) -> tuple[Any, Any, Any]:
    r"""Eigenvalues ``(e1 >= e2 >= e3)`` of a symmetric 3x3 UFL tensor, in closed (trigonometric) form.

    With the mean ``m = tr A / 3``, the deviator ``B = A - m I``, ``p = sqrt(B:B / 6)`` and
    ``r = det(B) / (2 p^3)`` in [-1, 1]: ``e_k = m + 2 p cos(acos(r)/3 - 2 pi k/3)``, k = 0, 1, 2
    (Smith 1961). Where eigenvalues coincide the plain formula breaks down: ``p = 0`` (all three equal)
    divides by zero and ``acos`` has an infinite derivative at ``r = +-1`` (two equal). So ``p^2`` gets
    :data:`EIG_SHIFT` and ``r`` is clipped to [-1, 1] and scaled by ``1 - shrink``: values and first and
    second derivatives (residual and Jacobian by ``ufl.derivative``) stay finite. A symmetric function of
    the eigenvalues (the spectral split's energy) and its first derivative (the stress) are then right to
    about 1e-11 relative also at repeated eigenvalues (tested against NumPy); its second derivative (the
    Newton Jacobian) is only approximate at exactly repeated eigenvalues (the divided difference of the
    two equal ones is smoothed over a width ``sqrt(shrink)``), which can cost Newton iterations there,
    never the converged solution.

    Args:
        A: A symmetric 3x3 UFL expression (e.g. the strain).
        shrink: The scaling of ``acos``'s argument (0: the plain formula, values exact also at repeated
            eigenvalues but an infinite derivative there).

    Returns:
        The three eigenvalues as UFL scalars, largest first.
    """
    m = ufl.tr(A) / 3.0
    B = A - m * ufl.Identity(3)
    p2 = ufl.inner(B, B) / 6.0 + EIG_SHIFT
    p = ufl.sqrt(p2)
    r = ufl.det(B) / (2.0 * p2 * p)
    r = ufl.max_value(ufl.min_value(r, 1.0), -1.0) * (1.0 - shrink)
    phi = ufl.acos(r) / 3.0
    third = 2.0 * math.pi / 3.0
    e1 = m + 2.0 * p * ufl.cos(phi)
    e3 = m + 2.0 * p * ufl.cos(phi + third)
    e2 = 3.0 * m - e1 - e3  # = m + 2 p cos(phi - 2 pi/3); the trace is exact this way
    return e1, e2, e3


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
