"""NonlinearSolver as a context manager (closed on leaving the block, also on an error) and its
keyword-only arguments."""

from mpi4py import MPI

import numpy as np
import pytest
import ufl
from dolfinx import fem, mesh

from gpfem.base.errors import ConvergenceError
from gpfem.fe.energy import Energy, gradient_penalty
from gpfem.fe.solver import NonlinearSolver, _live_prefixes


def _problem():
    """-div grad u + u = 1 with natural boundary conditions: u = 1 exactly (P1 reproduces it)."""
    msh = mesh.create_unit_square(MPI.COMM_WORLD, 6, 6)
    u = fem.Function(fem.functionspace(msh, ("Lagrange", 1)))
    E = Energy(ufl.dx, gradient=gradient_penalty(u, 2.0), bulk=u**2 / 2 - u)
    return E.residual(u), u


def test_with_block_solves_and_closes():
    prefix = "gpfem_ctx_"
    F, u = _problem()
    with NonlinearSolver(F, u, prefix=prefix) as s:
        assert _live_prefixes[prefix] is s
        info = s.solve()
    assert info.reason > 0
    assert np.abs(u.x.array - 1.0).max() < 1e-10
    assert s.problem is None and prefix not in _live_prefixes
    NonlinearSolver(F, u, prefix=prefix).close()  # the prefix is free again


def test_with_block_closes_on_error():
    F, u = _problem()
    with pytest.raises(ConvergenceError), NonlinearSolver(F, u, prefix="gpfem_ctx_err_",
                                                          options={"snes_max_it": 0}) as s:
        s.solve()
    assert s.problem is None and "gpfem_ctx_err_" not in _live_prefixes


def test_prefix_is_keyword_only():
    F, u = _problem()
    with pytest.raises(TypeError):
        NonlinearSolver(F, u, "gpfem_ctx_pos_")  # type: ignore[misc]
    assert "gpfem_ctx_pos_" not in _live_prefixes
