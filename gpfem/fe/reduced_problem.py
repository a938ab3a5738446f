r"""SNES on the reduced unknowns of a constrained space, :math:`u = P u_r + g`.

The residual and Jacobian are assembled on the full space by DOLFINx, as for any problem, and reduced:

.. math:: F_r(u_r) = P^T F(P u_r + g), \qquad J_r = P^T J P \quad (\text{PETSc's MatPtAP}).

The test functions of the reduced problem are the columns of ``P`` (periodic functions), so this is the
Galerkin method on the periodic space. The object mirrors ``dolfinx.fem.petsc.NonlinearProblem`` (``solver``,
``A``, ``b``, ``x``, ``solve()``), so :class:`~gpfem.fe.solver.NonlinearSolver` drives either one the same
way: options prefix, bounds, reasons and size defaults do not change. After every solve the full-space
function holds the constrained solution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dolfinx_solver  # noqa: F401  (loads libmpi before dolfinx/petsc4py)

import dolfinx.fem.petsc as fem_petsc
import ufl
from dolfinx import fem
from petsc4py import PETSc

__all__ = ["ReducedProblem"]


class ReducedProblem:
    """A nonlinear problem ``F(u; v) = 0`` solved for ``u_r`` with ``u = P u_r + g``.

    Args:
        F: Residual form.
        u: The unknown (full-space) function.
        constraint: A :class:`~gpfem.fe.periodic.PeriodicMap` of ``u``'s space.
        petsc_options_prefix: Options prefix of the SNES.
        bcs: Dirichlet conditions: their dofs leave the reduced space, their values form ``g``.
        J: Jacobian form (``ufl.derivative`` of ``F`` if ``None``).
        kind: PETSc matrix type of the full Jacobian (and of ``P``), ``None`` for DOLFINx's default.
        vec_type: PETSc vector type of the reduced vectors (``None``: that of ``P``).
        petsc_options: Options set on the SNES (without the prefix).
    """

    def __init__(
        self,
        F: Any,
        u: Any,
        constraint: Any,
        *,
        petsc_options_prefix: str,
        bcs: Sequence[Any] | None = None,
        J: Any | None = None,
        kind: str | None = None,
        vec_type: str | None = None,
        petsc_options: Mapping[str, Any] | None = None,
    ):
        self.u = u
        self._F = fem.form(F)
        self._J = fem.form(J if J is not None else ufl.derivative(F, u))
        self._A_full = fem_petsc.create_matrix(self._J, kind=kind)
        self._b_full = fem_petsc.create_vector(u.function_space)
        self._assemble_full_jacobian()  # the sparsity pattern for PtAP's symbolic phase
        self.prolongation = constraint.prolongation(bcs or [], self._A_full.getType())
        P = self.prolongation.P
        self.A: PETSc.Mat = self._A_full.ptap(P)
        self.b: PETSc.Vec = P.createVecRight()
        self.x: PETSc.Vec = P.createVecRight()
        if vec_type is not None:
            for v in (self.b, self.x):
                v.setType(vec_type)
        self.solver: PETSc.SNES = PETSc.SNES().create(u.function_space.mesh.comm)
        self.solver.setFunction(self._residual, self.b)
        self.solver.setJacobian(self._jacobian, self.A, self.A)
        self.solver.setOptionsPrefix(petsc_options_prefix)
        self.A.setOptionsPrefix(f"{petsc_options_prefix}A_")
        self.b.setOptionsPrefix(f"{petsc_options_prefix}b_")
        self.x.setOptionsPrefix(f"{petsc_options_prefix}x_")
        opts = PETSc.Options()
        opts.prefixPush(petsc_options_prefix)
        for k, v in (petsc_options or {}).items():
            opts.setValue(k, v)
        self.solver.setFromOptions()
        for k in petsc_options or {}:
            opts.delValue(k)
        opts.prefixPop()

    @property
    def size_global(self) -> int:
        """Number of reduced unknowns."""
        return self.prolongation.size_global

    def _assemble_full_jacobian(self) -> None:
        self._A_full.zeroEntries()
        fem_petsc.assemble_matrix(self._A_full, self._J)  # type: ignore[arg-type]  # (matrix, form) overload
        self._A_full.assemble()

    def _residual(self, _snes: Any, x: PETSc.Vec, b: PETSc.Vec) -> None:
        self.prolongation.prolong(x, self.u)
        bf = self._b_full
        with bf.localForm() as loc:
            loc.set(0.0)
        fem_petsc.assemble_vector(bf, self._F)  # type: ignore[arg-type]  # (vector, form) overload
        bf.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)  # type: ignore[arg-type]
        self.prolongation.multiply_transpose(bf, b)

    def _jacobian(self, _snes: Any, x: PETSc.Vec, A: PETSc.Mat, _P: PETSc.Mat) -> None:
        self.prolongation.prolong(x, self.u)
        self._assemble_full_jacobian()
        self._A_full.ptap(self.prolongation.P, result=A)

    def restrict(self, full: Any) -> Any:
        """The reduced values (a local numpy array) of a full-space function's array."""
        return self.prolongation.restrict(full)

    def solve(self) -> Any:
        """Solve from the current ``u`` (its master and free values); leave the solution in ``u``."""
        self.x.array[:] = self.restrict(self.u.x.array)
        self.solver.solve(None, self.x)
        self.prolongation.prolong(self.x, self.u)
        return self.u

    def destroy(self) -> None:
        """Destroy every PETSc object of the problem (collective)."""
        for obj in (self.solver, self.A, self.b, self.x, self._A_full, self._b_full):
            obj.destroy()
        self.prolongation.destroy()
