"""gpfem.amr invariants on 2 ranks (``mpiexec -n 2 pytest -m mpi``): the same checks as test_amr.py."""

from mpi4py import MPI

import amr_checks as chk
import pytest

pytestmark = pytest.mark.mpi


def test_runs_distributed():
    assert MPI.COMM_WORLD.size >= 2


@pytest.mark.parametrize("name", chk.SHARED_CHECKS)
def test_invariant(name):
    getattr(chk, f"check_{name}")()


def test_store_round_trip_2_ranks_to_1(shared_tmp):
    chk.check_store_round_trip(shared_tmp / "ck.npz")


def test_series_with_changing_mesh(shared_tmp):
    chk.check_series_with_changing_mesh(shared_tmp)
