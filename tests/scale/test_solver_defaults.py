"""Size-based Krylov default: applied above the threshold, never over a user's choice, direct fallback."""

from test_backend import _solve

from gpfem.core import solver_defaults
from gpfem.core.solver_defaults import direct_options, size_default


def test_threshold_and_user_choice_win(monkeypatch):
    n, opts = solver_defaults.SIZE_DEFAULTS["gpfem_ch_"]
    assert opts["ksp_type"] == "gmres" and opts["sub_pc_type"] == "ilu"
    monkeypatch.setitem(solver_defaults.SIZE_DEFAULTS, "gpfem_sdx_", (n, opts))
    assert size_default("gpfem_sdx_", n - 1, {}) == {}
    assert size_default("gpfem_sdx_", n, {})["ksp_type"] == "gmres"
    assert size_default("gpfem_sdx_", n, {"pc_type": "lu"}) == {}
    assert size_default("gpfem_damage_", 10**9, {}) == {}


def test_failed_krylov_falls_back_to_mumps(monkeypatch):
    ref, s = _solve("gpfem_sd_ref_")
    s.close()
    broken = {"ksp_type": "gmres", "pc_type": "none", "ksp_max_it": 1}
    monkeypatch.setitem(solver_defaults.SIZE_DEFAULTS, "gpfem_sd_auto_", (0, broken))
    got, s = _solve("gpfem_sd_auto_")
    assert s.auto_krylov == {} and s.snes.getKSP().getType() == "preonly"
    # MUMPS where the PETSc has it (the wheel's), else PETSc's own LU (the CUDA build)
    want = direct_options(1)[0]["pc_factor_mat_solver_type"]
    assert s.snes.getKSP().getPC().getFactorSolverType() == want
    s.close()
    assert abs(got - ref).max() < 1e-10
