"""Fixtures shared by all tests; plain helpers live in ``helpers.py``."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def comm():
    """MPI.COMM_WORLD."""
    from mpi4py import MPI

    return MPI.COMM_WORLD


@pytest.fixture
def shared_tmp(tmp_path, comm):
    """A temporary folder that is the same on every rank (rank 0's tmp_path)."""
    return Path(comm.bcast(str(tmp_path), root=0))
