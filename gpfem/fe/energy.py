r"""Energy terms: a model's total energy is a sum of small, named UFL integrands.

The one term every model shares is the gradient penalty

.. math:: \psi_\nabla(\phi) = \frac{\kappa}{2} |\nabla \phi|^2,

the cost of a sharp change of a field. In Cahn-Hilliard it is the interface energy, in the martensite
model the twin-wall energy, in phase-field fracture the regularisation of the crack (with
``kappa = 2 Gc ell / c_w``). Its counterpart for ML critics, :math:`\lambda(|\nabla_x D| - 1)^2`, lives in
:mod:`gpfem.ml.penalties`: the same idea — a price on steep change with respect to the input.

Residuals and Jacobians never get written by hand: :meth:`Energy.residual` and :meth:`Energy.jacobian` are
``ufl.derivative`` of the total.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import ufl

if TYPE_CHECKING:
    from dolfinx import fem
    from ufl.core.expr import Expr

__all__ = ["Energy", "double_well", "gradient_penalty"]


def gradient_penalty(phi: Expr, kappa: Expr | float) -> Expr:
    r"""The gradient-penalty energy density :math:`\frac{\kappa}{2}|\nabla\phi|^2`.

    For a vector of order parameters pass each component separately (or a vector field: then the
    Frobenius norm of the gradient is penalised).

    Args:
        phi: A scalar or vector UFL expression.
        kappa: The penalty coefficient (constant or expression).

    Returns:
        The UFL energy density.
    """
    g = ufl.grad(phi)
    return 0.5 * kappa * ufl.inner(g, g)


def double_well(c: Expr, height: Expr | float, a: Expr | float, b: Expr | float) -> Expr:
    r"""The quartic double well :math:`\rho (c - a)^2 (b - c)^2` with minima at ``a`` and ``b``."""
    return height * (c - a) ** 2 * (b - c) ** 2


class Energy:
    """A total energy as an ordered collection of named densities over one measure.

    Example::

        E = Energy(dx, bulk=double_well(c, rho, a, b), gradient=gradient_penalty(c, kappa))
        F = E.residual(u, v)          # first variation
        value = E.assemble("gradient")  # one term, reduced over ranks

    Args:
        measure: The UFL measure (``ufl.dx`` on a mesh) every term is integrated over.
        terms: Name -> UFL density; a density may also be a full UFL form (e.g. a boundary work term)
            when passed as ``name=form`` with ``form`` already integrated.
    """

    def __init__(self, measure: ufl.Measure, **terms: Expr | ufl.Form):
        self.measure = measure
        self._terms: dict[str, ufl.Form] = {}
        for name, density in terms.items():
            self.add(name, density)
        self._compiled: dict[str, fem.Form] = {}

    def add(self, name: str, density: Expr | ufl.Form, sign: float = 1.0) -> Energy:
        """Add a named term (``sign=-1`` for external work)."""
        form = density if isinstance(density, ufl.Form) else density * self.measure
        self._terms[name] = sign * form if sign != 1.0 else form
        return self

    @property
    def names(self) -> list[str]:
        """Term names, in insertion order."""
        return list(self._terms)

    def __iter__(self) -> Iterator[str]:
        return iter(self._terms)

    def __getitem__(self, name: str) -> ufl.Form:
        return self._terms[name]

    def form(self, names: list[str] | None = None) -> ufl.Form:
        """The UFL form of the sum of the given terms (all by default)."""
        keys = self.names if names is None else names
        total = self._terms[keys[0]]
        for k in keys[1:]:
            total = total + self._terms[k]
        return total

    def residual(self, u: fem.Function, v: ufl.Argument | None = None) -> ufl.Form:
        """First variation ``dE/du [v]`` of the total, by ``ufl.derivative``."""
        return ufl.derivative(self.form(), u, v)

    def jacobian(self, u: fem.Function, v: ufl.Argument | None = None,
                 du: ufl.Argument | None = None) -> ufl.Form:
        """Second variation, by ``ufl.derivative`` of :meth:`residual`."""
        return ufl.derivative(self.residual(u, v), u, du)

    def compile(self) -> None:
        """JIT-compile every term as a scalar form (done once, lazily)."""
        from dolfinx import fem

        for name, form in self._terms.items():
            if name not in self._compiled:
                self._compiled[name] = fem.form(form)

    def assemble(self, name: str | None = None) -> float:
        """Assemble one term (or the total when ``name`` is None), summed over all MPI ranks."""
        from dolfinx import fem

        self.compile()
        names = self.names if name is None else [name]
        local = 0.0
        comm = None
        for n in names:
            f = self._compiled[n]
            comm = f.mesh.comm
            local += fem.assemble_scalar(f).real
        return float(comm.allreduce(local)) if comm is not None else local

    def values(self) -> Mapping[str, float]:
        """Every term's value and ``total``, reduced over ranks."""
        vals = {n: self.assemble(n) for n in self.names}
        vals["total"] = sum(vals.values())
        return vals
