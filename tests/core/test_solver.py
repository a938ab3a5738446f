"""Solver layer: manufactured-solution convergence, typed errors, prefixes, bounds."""

from mpi4py import MPI

import numpy as np
import pytest
import ufl
from dolfinx import fem, mesh
from helpers import bounded_poisson
from petsc4py import PETSc

from gpfem.base.errors import ConvergenceError, GpfemError
from gpfem.fe.energy import Energy, gradient_penalty
from gpfem.fe.solver import NonlinearSolver


def solve_mms(n, prefix):
    """min int kappa/2 |grad u|^2 + u^4/4 - f u, u = 0 on the boundary; u = sin(pi x) sin(pi y)."""
    msh = mesh.create_unit_square(MPI.COMM_WORLD, n, n)
    V = fem.functionspace(msh, ("Lagrange", 1))
    u = fem.Function(V)
    x = ufl.SpatialCoordinate(msh)
    kappa = 1.0
    u_ex = ufl.sin(ufl.pi * x[0]) * ufl.sin(ufl.pi * x[1])
    f = -kappa * ufl.div(ufl.grad(u_ex)) + u_ex**3
    E = Energy(ufl.dx, gradient=gradient_penalty(u, kappa), bulk=u**4 / 4)
    E.add("work", f * u * ufl.dx, sign=-1.0)
    msh.topology.create_connectivity(1, 2)
    facets = mesh.exterior_facet_indices(msh.topology)
    bc = fem.dirichletbc(0.0, fem.locate_dofs_topological(V, 1, facets), V)
    s = NonlinearSolver(E.residual(u), u, prefix=prefix, bcs=[bc])
    info = s.solve()
    s.close()
    err = fem.assemble_scalar(fem.form((u - u_ex) ** 2 * ufl.dx))
    err_h1 = fem.assemble_scalar(fem.form(ufl.inner(ufl.grad(u - u_ex), ufl.grad(u - u_ex)) * ufl.dx))
    comm = msh.comm
    return np.sqrt(comm.allreduce(err)), np.sqrt(comm.allreduce(err_h1)), info


def test_manufactured_solution_rates():
    errs = [solve_mms(n, f"gpfem_mms{n}_") for n in (8, 16, 32)]
    l2 = [e[0] for e in errs]
    h1 = [e[1] for e in errs]
    rates_l2 = np.log2(np.array(l2[:-1]) / np.array(l2[1:]))
    rates_h1 = np.log2(np.array(h1[:-1]) / np.array(h1[1:]))
    assert np.all(np.abs(rates_l2 - 2.0) < 0.1), rates_l2
    assert np.all(np.abs(rates_h1 - 1.0) < 0.1), rates_h1
    # Newton on this convex energy converges in a handful of iterations.
    assert all(1 <= e[2].iterations <= 6 for e in errs)


def _problem():
    msh = mesh.create_unit_square(MPI.COMM_WORLD, 4, 4)
    V = fem.functionspace(msh, ("Lagrange", 1))
    u = fem.Function(V)
    E = Energy(ufl.dx, gradient=gradient_penalty(u, 1.0), bulk=ufl.exp(3 * u) - 5 * u)
    return E, u, V


def test_non_convergence_raises_typed_error_with_reasons():
    E, u, _ = _problem()
    s = NonlinearSolver(E.residual(u), u, prefix="gpfem_fail_", options={"snes_max_it": 1})
    with pytest.raises(ConvergenceError) as e:
        s.solve()
    assert e.value.prefix == "gpfem_fail_"
    assert "DIVERGED_MAX_IT" in str(e.value) and "KSP reason" in str(e.value)
    s.close()


def test_prefix_is_mandatory_and_unique():
    E, u, _ = _problem()
    with pytest.raises(GpfemError, match="prefix"):
        NonlinearSolver(E.residual(u), u, prefix="")
    a = NonlinearSolver(E.residual(u), u, prefix="gpfem_dup")
    assert a.prefix == "gpfem_dup_"
    with pytest.raises(GpfemError, match="already used"):
        NonlinearSolver(E.residual(u), u, prefix="gpfem_dup_")
    a.close()
    NonlinearSolver(E.residual(u), u, prefix="gpfem_dup_").close()


def test_command_line_options_reach_the_prefix():
    E, u, _ = _problem()
    opts = PETSc.Options()
    opts["gpfem_cli_snes_max_it"] = 1
    try:
        s = NonlinearSolver(E.residual(u), u, prefix="gpfem_cli_")
        assert s.snes.getTolerances()[3] == 1
        with pytest.raises(ConvergenceError):
            s.solve()
        s.close()
    finally:
        del opts["gpfem_cli_snes_max_it"]


def test_bounds_give_a_variational_inequality():
    """min int 1/2|grad u|^2 - 10 u with 0 <= u <= 0.05: the upper bound is active in the interior."""
    s, u = bounded_poisson("gpfem_vi_")
    msh = u.function_space.mesh
    assert s.snes.getType() == "vinewtonrsls"
    s.solve()
    umax = msh.comm.allreduce(u.x.array.max(), op=MPI.MAX)
    umin = msh.comm.allreduce(u.x.array.min(), op=MPI.MIN)
    assert umax == pytest.approx(0.05, abs=1e-12) and umin >= -1e-14
    # Unconstrained, the maximum would be about 10 * 0.0737 = 0.737 > 0.05.
    s.close()
