"""Size-based Krylov default: applied above the threshold, never over a user's choice, direct fallback."""

import pytest
from test_backend import _solve

from gpfem.base.errors import ConvergenceError, GpfemError
from gpfem.fe import solver_defaults
from gpfem.fe.solver import _live_prefixes
from gpfem.fe.solver_defaults import direct_options, size_default


def test_threshold_and_user_choice_win(monkeypatch):
    n, opts = solver_defaults.SIZE_DEFAULTS["gpfem_ch_"]
    assert opts["ksp_type"] == "gmres" and opts["sub_pc_type"] == "ilu"
    monkeypatch.setitem(solver_defaults.SIZE_DEFAULTS, "gpfem_sdx_", (n, opts))
    assert size_default("gpfem_sdx_", n - 1, {}) == {}
    assert size_default("gpfem_sdx_", n, {})["ksp_type"] == "gmres"
    assert size_default("gpfem_sdx_", n, {"pc_type": "lu"}) == {}
    assert size_default("gpfem_damage_", 10**9, {}) == {}


def test_failed_krylov_is_redone_with_mumps_and_kept_after_three_in_a_row(monkeypatch):
    ref, s = _solve("gpfem_sd_ref_")
    s.close()
    broken = {"ksp_type": "gmres", "pc_type": "none", "ksp_max_it": 1}
    monkeypatch.setitem(solver_defaults.SIZE_DEFAULTS, "gpfem_sd_auto_", (0, broken))
    got, s = _solve("gpfem_sd_auto_")  # the first solve: GMRES fails, redone with MUMPS (or what there is)
    assert abs(got - ref).max() < 1e-10
    assert s.krylov_failures == 1 and s.auto_krylov and s.snes.getKSP().getType() == "gmres"
    for n in (2, 3):  # the same start again: GMRES fails each time
        s.u.x.array[:] = 0.0
        s.solve()
        assert s.krylov_failures == n
    ksp = s.snes.getKSP()
    direct = direct_options(s.comm.size)[0]  # MUMPS where the PETSc has it (the wheel's)
    assert s.auto_krylov == {} and ksp.getType() == "preonly" and ksp.getPC().getType() == direct["pc_type"]
    if "pc_factor_mat_solver_type" in direct:
        assert ksp.getPC().getFactorSolverType() == direct["pc_factor_mat_solver_type"]
    assert s._krylov_ksp is None and "sub_pc_type" not in s.options
    s.u.x.array[:] = 0.0
    s.solve()
    assert s.krylov_failures == 3 and s.snes.getKSP().getType() == "preonly"
    n = s.u.function_space.dofmap.index_map.size_local
    assert abs(s.u.x.array[:n] - ref).max() < 1e-10
    s.close()


def test_failed_retry_raises_with_the_retry_reasons_and_prefixes_stay_unique(monkeypatch):
    """A retry that fails too: ConvergenceError naming its SNES/KSP reasons and the Krylov failure."""
    broken = {"ksp_type": "gmres", "pc_type": "none", "ksp_max_it": 1, "snes_max_it": 1}
    monkeypatch.setitem(solver_defaults.SIZE_DEFAULTS, "gpfem_sd_fail_", (0, broken))
    with pytest.raises(ConvergenceError) as e:
        _solve("gpfem_sd_fail_")
    msg = str(e.value)
    assert e.value.snes_reason.startswith("DIVERGED_MAX_IT")  # MUMPS solved, one Newton step was too few
    assert e.value.ksp_reason.startswith("CONVERGED_ITS")  # preonly's reason: MUMPS, not GMRES
    assert f"redone with {direct_options(1)[1]} after gmres+none failed (DIVERGED_MAX_IT" in msg
    s = _live_prefixes["gpfem_sd_fail_"]
    assert s.krylov_failures == 0 and s.snes.getKSP().getType() == "gmres"  # Krylov back, nothing counted
    assert _live_prefixes["gpfem_sd_fail_fallback_"] is s
    with pytest.raises(GpfemError, match="'gpfem_sd_fail_fallback_' is already used"):
        _solve("gpfem_sd_fail_fallback_")
    kept = [s._krylov_ksp, s._direct_ksp]
    s.close()
    assert all(k.handle == 0 for k in kept)  # destroyed now, not by the garbage collector
    assert "gpfem_sd_fail_" not in _live_prefixes and "gpfem_sd_fail_fallback_" not in _live_prefixes


@pytest.mark.parametrize("comm_kind", ["serial", pytest.param("mpi", marks=pytest.mark.mpi)])
def test_retry_on_a_periodic_reduced_problem(monkeypatch, comm_kind):
    """The retry's KSP gets the reduced Jacobian P^T J P: -lap u + u + u^3 = f, periodic in x and y, with
    GMRES limited to 1 iteration, redone by MUMPS = the MUMPS solve itself; u periodic to round-off."""
    from mpi4py import MPI

    import numpy as np
    import ufl
    from dolfinx import fem, mesh

    from gpfem.fe.periodic import PeriodicMap
    from gpfem.fe.solver import NonlinearSolver

    broken = {"ksp_type": "gmres", "pc_type": "none", "ksp_max_it": 1, "ksp_rtol": 1e-12}
    monkeypatch.setitem(solver_defaults.SIZE_DEFAULTS, "gpfem_sd_per_", (0, broken))
    msh = mesh.create_unit_square(MPI.COMM_WORLD, 8, 8)
    V = fem.functionspace(msh, ("Lagrange", 1))
    x = ufl.SpatialCoordinate(msh)
    f = 1.0 + 0.5 * ufl.sin(2 * ufl.pi * x[0]) * ufl.cos(2 * ufl.pi * x[1])
    got = []
    for prefix in ("gpfem_sd_per_ref_", "gpfem_sd_per_"):  # MUMPS, then GMRES that fails
        u, v = fem.Function(V), ufl.TestFunction(V)
        F = (ufl.inner(ufl.grad(u), ufl.grad(v)) + (u + u**3 - f) * v) * ufl.dx
        s = NonlinearSolver(F, u, prefix=prefix, constraint=PeriodicMap(V, (0, 1)))
        try:
            s.solve()
            assert s.krylov_failures == (prefix == "gpfem_sd_per_")
            got.append(u.x.array.copy())
        finally:
            s.close()
    err = MPI.COMM_WORLD.allreduce(float(np.abs(got[1] - got[0]).max()), op=MPI.MAX)
    assert err < 1e-10
