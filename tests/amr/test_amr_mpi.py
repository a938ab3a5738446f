"""gpfem.amr invariants on 2 ranks (``mpiexec -n 2 pytest -m mpi``): the same checks as test_amr.py."""

from mpi4py import MPI

import amr_checks as chk
import pytest

pytestmark = pytest.mark.mpi


def test_runs_distributed():
    assert MPI.COMM_WORLD.size >= 2


def test_parent_map_and_levels():
    chk.check_parent_map_and_levels()


def test_bisection():
    chk.check_bisection()


def test_boundary_groups_survive():
    chk.check_boundary_groups_survive()


def test_limits():
    chk.check_limits()


def test_dilate():
    chk.check_dilate()


def test_interface_indicator():
    chk.check_interface_indicator()


def test_nested_transfer_exact():
    chk.check_nested_transfer_exact()


def test_rebuild_conserves_mass():
    chk.check_rebuild_conserves_mass()


def test_damage_bound_transfer():
    chk.check_damage_bound_transfer()


def test_store_round_trip_2_ranks_to_1(shared_tmp):
    chk.check_store_round_trip(shared_tmp / "ck.npz")


def test_series_with_changing_mesh(shared_tmp):
    chk.check_series_with_changing_mesh(shared_tmp)
