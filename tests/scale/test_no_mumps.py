"""A PETSc without MUMPS (the CUDA build): the direct default falls back to what exists, with one log line.

Simulated here on any PETSc by making ``has_package`` say no; ``tests/gpu`` runs the real thing when the
CUDA build is present.
"""

from mpi4py import MPI

import numpy as np
import pytest
from petsc4py import PETSc
from test_backend import _solve

from gpfem.base.errors import GpfemError
from gpfem.fe import solver_defaults


def _without(monkeypatch, *missing):
    real = solver_defaults.has_package

    def fake(name):
        return False if name in missing else real(name)

    monkeypatch.setattr(solver_defaults, "has_package", fake)


def _check_fallback(monkeypatch, capsys, prefix):
    ref, s = _solve(prefix + "ref_")
    s.close()
    _without(monkeypatch, "mumps", "superlu_dist")
    got, s = _solve(prefix)
    pc = s.snes.getKSP().getPC()
    if MPI.COMM_WORLD.size == 1:
        assert pc.getType() == "lu" and pc.getFactorSolverType() == "petsc"
        what = "PETSc's LU"
    else:
        assert pc.getType() == "redundant"
        what = "PETSc's LU of the matrix gathered"
    assert s.snes.getKSP().getType() == "preonly"
    s.close()
    out = capsys.readouterr().out
    if MPI.COMM_WORLD.rank == 0:
        assert f"gpfem: this PETSc has no MUMPS; {prefix} solves with {what}" in out
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)


def test_direct_default_without_mumps(monkeypatch, capsys):
    _check_fallback(monkeypatch, capsys, "gpfem_nm_")


@pytest.mark.mpi
def test_direct_default_without_mumps_mpi(monkeypatch, capsys):
    _check_fallback(monkeypatch, capsys, "gpfem_nm_mpi_")


def test_missing_factor_package_is_refused(monkeypatch):
    _without(monkeypatch, "mumps")
    opts = PETSc.Options()
    opts["gpfem_nm_cl_pc_factor_mat_solver_type"] = "mumps"
    try:
        with pytest.raises(GpfemError, match="option -gpfem_nm_cl_pc_factor_mat_solver_type mumps: "
                                             "this PETSc has no mumps"):
            _solve("gpfem_nm_cl_")
    finally:
        del opts["gpfem_nm_cl_pc_factor_mat_solver_type"]


def _check_retry(monkeypatch, prefix):
    """A Krylov failure is redone with the direct solve this PETSc has (pc redundant on 2 ranks)."""
    ref, s = _solve(prefix + "ref_")
    s.close()
    _without(monkeypatch, "mumps", "superlu_dist")
    broken = {"ksp_type": "gmres", "pc_type": "none", "ksp_max_it": 1}
    monkeypatch.setitem(solver_defaults.SIZE_DEFAULTS, prefix, (0, broken))
    got, s = _solve(prefix)
    assert s.krylov_failures == 1 and s.snes.getKSP().getType() == "gmres"  # Krylov again next solve
    pc = s._direct_ksp.getPC()
    if MPI.COMM_WORLD.size == 1:
        assert pc.getType() == "lu" and pc.getFactorSolverType() == "petsc"
    else:
        assert pc.getType() == "redundant"
    s.close()
    assert abs(got - ref).max() < 1e-10


def test_failed_krylov_falls_back_to_direct_without_mumps(monkeypatch):
    _check_retry(monkeypatch, "gpfem_nm_auto_")


@pytest.mark.mpi
def test_failed_krylov_falls_back_to_direct_without_mumps_mpi(monkeypatch):
    _check_retry(monkeypatch, "gpfem_nm_auto_mpi_")


def test_user_solver_choice_is_kept_without_mumps(monkeypatch, capsys):
    _without(monkeypatch, "mumps", "superlu_dist")
    opts = PETSc.Options()
    opts["gpfem_nm_user_ksp_type"] = "cg"
    opts["gpfem_nm_user_pc_type"] = "jacobi"
    try:
        _, s = _solve("gpfem_nm_user_")
        assert s.snes.getKSP().getType() == "cg" and s.snes.getKSP().getPC().getType() == "jacobi"
        s.close()
    finally:
        del opts["gpfem_nm_user_ksp_type"]
        del opts["gpfem_nm_user_pc_type"]
    assert "gpfem_nm_user_" not in capsys.readouterr().out  # no fallback line: nothing fell back
