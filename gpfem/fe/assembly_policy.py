"""When a solver assembles: the Jacobian once per solve or kept (modified Newton), an affine residual.

A SNES calls the problem's residual and Jacobian callbacks (DOLFINx assembly) at every Newton iteration.
:class:`AssemblyPolicy` wraps them for one SNES and skips the assemblies that are not needed:

* ``quadratic``: the energy is quadratic in the unknown, so its Jacobian does not depend on it (computed
  at the first Newton iteration of a solve and kept for the others) and its residual is affine, ``F(x) =
  F(x0) + J (x - x0)`` (after the first residual of a solve, every further one is one matrix-vector
  product). The same iterates.
* :attr:`AssemblyPolicy.reuse_jacobian`: while set, no Jacobian is assembled at all; the matrix keeps its
  state, so PETSc's ``PCSetUp`` keeps the preconditioner or factorisation built from it (modified
  Newton, for callers that accept an inexact step).

The policy holds neither the SNES nor the solver (no reference cycle through a PETSc object, which
Python's collector cannot break); its work vectors are destroyed by :meth:`AssemblyPolicy.destroy`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, cast

from petsc4py import PETSc

__all__ = ["AssemblyPolicy"]

_Callback = tuple[Callable[..., None], tuple[Any, ...], "dict[str, Any] | None"]


class AssemblyPolicy:
    """The residual and Jacobian callbacks of one SNES, with the skips above.

    Args:
        snes: The SNES whose callbacks (set by the problem) are wrapped.
        counts: Where ``"jacobians"`` and ``"residuals"`` (assembled, with ``quadratic``) are counted.
        quadratic: The energy is quadratic in the unknown (constant Jacobian, affine residual).
    """

    def __init__(self, snes: PETSc.SNES, counts: dict[str, int], quadratic: bool = False):
        #: While ``True``, no Jacobian is assembled (after the first one of the solver's life).
        self.reuse_jacobian = False
        self._counts = counts
        self._once = quadratic
        self._made = False  # a Jacobian was assembled (ever)
        self._this_solve = False  # ... in the current solve
        self._x0: PETSc.Vec | None = None  # quadratic: where the solve's first residual was assembled,
        self._F0: PETSc.Vec | None = None  # that residual,
        self._dx: PETSc.Vec | None = None  # and a work vector
        # petsc4py returns (function, args, kwargs) for the callbacks; its stubs say a bare callable
        J, P, jac = snes.getJacobian()
        fn, args, kw = cast(_Callback, jac)
        snes.setJacobian(functools.partial(self._jacobian, fn, args, kw or {}), J, P)
        if quadratic:
            vec, res = cast("tuple[PETSc.Vec, _Callback]", snes.getFunction())
            snes.setFunction(functools.partial(self._residual, res[0], res[1], res[2] or {}), vec)

    def new_solve(self) -> None:
        """A solve starts: the Jacobian and the first residual kept by ``quadratic`` are stale."""
        self._this_solve = False

    def _jacobian(self, fn: Callable[..., None], args: tuple[Any, ...], kw: Mapping[str, Any],
                  snes: PETSc.SNES, x: PETSc.Vec, J: PETSc.Mat, P: PETSc.Mat) -> None:
        """The problem's Jacobian callback, unless the matrix it holds may be kept."""
        if self._made and (self.reuse_jacobian or (self._once and self._this_solve)):
            return
        fn(snes, x, J, P, *args, **kw)
        self._made = self._this_solve = True
        self._counts["jacobians"] += 1

    def _residual(self, fn: Callable[..., None], args: tuple[Any, ...], kw: Mapping[str, Any],
                  snes: PETSc.SNES, x: PETSc.Vec, F: PETSc.Vec) -> None:
        """``quadratic``: the problem's residual callback once per solve, then ``F0 + J (x - x0)``."""
        x0, F0, dx = self._x0, self._F0, self._dx
        if self._this_solve and x0 is not None and F0 is not None and dx is not None:
            dx.waxpy(-1.0, x0, x)
            snes.getJacobian()[0].mult(dx, F)
            F.axpy(1.0, F0)
            return
        fn(snes, x, F, *args, **kw)
        self._counts["residuals"] += 1
        if x0 is None or F0 is None:
            x0, F0, self._dx = x.duplicate(), F.duplicate(), x.duplicate()
            self._x0, self._F0 = x0, F0
        x.copy(x0)
        F.copy(F0)

    def destroy(self) -> None:
        """Destroy the work vectors (collective)."""
        for v in (self._x0, self._F0, self._dx):
            if v is not None:
                v.destroy()
        self._x0 = self._F0 = self._dx = None
