"""When the solver layer assembles the Jacobian: once per solve, reused (modified Newton), and the
symmetric direct default."""

from mpi4py import MPI

import numpy as np
import pytest
import ufl
from dolfinx import fem, mesh
from helpers import bounded_poisson
from petsc4py import PETSc

from gpfem.fe.energy import Energy, gradient_penalty
from gpfem.fe.solver import NonlinearSolver


def test_quadratic_gives_the_same_iterates_with_one_assembly_per_solve():
    """quadratic on a quadratic problem: the same solution (1e-12) and Newton iterations, one Jacobian and
    one residual assembly per solve instead of one per Newton iteration (the line search's and the
    convergence test's residuals are matrix-vector products)."""
    _quadratic_same_iterates()


@pytest.mark.mpi
def test_quadratic_same_iterates_in_parallel():
    """The same on every rank of COMM_WORLD (the counts are collective)."""
    _quadratic_same_iterates()


def _quadratic_same_iterates():
    out = {}
    for mode in ("every", "quadratic"):
        s, u = bounded_poisson(f"gpfem_j{mode}_", quadratic=mode == "quadratic")
        try:
            for _ in range(2):  # a second solve from another start: one more assembly
                u.x.array[:] = 0.0
                s.solve()
            out[mode] = (u.x.array.copy(), dict(s.counts))
        finally:
            s.close()
    u0, c0 = out["every"]
    assert c0["newton_iterations"] > c0["solves"]  # several iterations per solve: there was something to save
    assert c0["jacobians"] == c0["newton_iterations"]
    comm = MPI.COMM_WORLD
    u1, c1 = out["quadratic"]
    assert comm.allreduce(float(np.max(np.abs(u1 - u0), initial=0.0)), op=MPI.MAX) < 1e-12
    assert c1["newton_iterations"] == c0["newton_iterations"]
    assert c1["jacobians"] == c1["solves"] == 2
    # one residual assembled per solve, the others are F0 + J (x - x0)
    assert c1["residuals"] == 2


def test_reused_jacobian_is_a_modified_newton_iteration():
    """reuse_jacobian on a nonlinear problem (bulk exp(3u) - 5u): one Jacobian for the whole solve, more
    Newton iterations than Newton's, the same solution to the Newton tolerance."""
    msh = mesh.create_unit_square(MPI.COMM_WORLD, 8, 8)
    V = fem.functionspace(msh, ("Lagrange", 1))
    out = {}
    for reuse in (False, True):
        u = fem.Function(V)
        E = Energy(ufl.dx, gradient=gradient_penalty(u, 1.0), bulk=ufl.exp(3 * u) - 5 * u)
        s = NonlinearSolver(E.residual(u), u, prefix=f"gpfem_jreuse{int(reuse)}_",
                            options={"snes_rtol": 1e-12, "snes_atol": 1e-12, "snes_max_it": 100})
        s.reuse_jacobian = reuse
        try:
            s.solve()
            out[reuse] = (u.x.array.copy(), dict(s.counts))
        finally:
            s.close()
    (u0, c0), (u1, c1) = out[False], out[True]
    assert c1["jacobians"] == 1 < c0["jacobians"]
    assert c1["newton_iterations"] > c0["newton_iterations"]
    assert np.max(np.abs(u1 - u0)) < 1e-9


@pytest.mark.skipif(not PETSc.Sys.hasExternalPackage("mumps"), reason="the L D L^T default is MUMPS's")
def test_symmetric_jacobian_gets_ldlt_unless_the_user_chose():
    """symmetric=True: MUMPS pc_type cholesky by default; the model's or the command line's pc_type wins."""
    db = PETSc.Options()
    made = []
    try:
        s, _ = bounded_poisson("gpfem_jsym_", symmetric=True)
        made.append(s)
        assert s.snes.getKSP().getPC().getType() == "cholesky"
        s, _ = bounded_poisson("gpfem_jsym_model_", symmetric=True, options={"pc_type": "lu"})
        made.append(s)
        assert s.snes.getKSP().getPC().getType() == "lu"
        db["gpfem_jsym_cli_pc_type"] = "lu"
        s, u = bounded_poisson("gpfem_jsym_cli_", symmetric=True)
        made.append(s)
        assert s.snes.getKSP().getPC().getType() == "lu"
        s.solve()  # and it still solves
        assert msh_max(u) == pytest.approx(0.05, abs=1e-12)
    finally:
        db.delValue("gpfem_jsym_cli_pc_type")
        for s in made:
            s.close()


def msh_max(u):
    """Largest value of ``u`` over all ranks."""
    return u.function_space.mesh.comm.allreduce(float(u.x.array.max()), op=MPI.MAX)


def test_a_dropped_solver_frees_its_prefix():
    """The wrapped SNES callbacks hold the solver weakly: a solver dropped without close() is freed at once
    and its options prefix can be taken again (a cycle through the SNES would keep it for ever)."""
    s, _u = bounded_poisson("gpfem_jdrop_", quadratic=True)
    s.solve()
    del s
    s, _u = bounded_poisson("gpfem_jdrop_", quadratic=True)  # GpfemError if the first one were alive
    s.close()
