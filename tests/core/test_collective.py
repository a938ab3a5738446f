"""Rank-0 file actions with a collective verdict, atomic writes and the run-folder lock (in-process).

Serial tests run as they are; the ``mpi`` ones under ``mpiexec -n 2`` (every rank runs them): a failure on
one rank must raise the same typed error on every rank, never leave one waiting.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from gpfem.base.errors import GpfemError, OutputError, ParameterError, RunFolderBusy
from gpfem.io.collective import agree, atomic_write, atomic_write_text, rank0_call
from gpfem.io.lock import LOCK_NAME, RunLock


def test_rank0_call_turns_an_os_error_into_one_line():
    def full():
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OutputError) as e:
        rank0_call(None, full, "runs/x/history.csv")
    assert str(e.value) == "cannot write runs/x/history.csv: No space left on device"
    assert rank0_call(None, lambda: 42, "x") == 42


def test_atomic_write_keeps_the_old_file_when_the_write_fails(tmp_path):
    f = tmp_path / "a.json"
    atomic_write_text(f, "old")

    def fails(fh):
        fh.write(b"half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OutputError, match=f"cannot write {f}: No space left on device"):
        atomic_write(f, fails)
    assert f.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_lock_refuses_a_second_holder_and_takes_over_a_stale_one(tmp_path):
    first = RunLock(tmp_path).acquire()
    holder = (tmp_path / LOCK_NAME).read_text()
    assert f'"pid": {os.getpid()}' in holder
    with pytest.raises(RunFolderBusy, match=f"in use by gpfem pid {os.getpid()}"):
        RunLock(tmp_path).acquire()  # another open file description: flock refuses it
    first.release()
    assert not (tmp_path / LOCK_NAME).exists()
    (tmp_path / LOCK_NAME).write_text(holder)  # left by a process that died: no flock on it
    with RunLock(tmp_path):
        assert (tmp_path / LOCK_NAME).exists()
    assert not (tmp_path / LOCK_NAME).exists()


@pytest.mark.mpi
def test_rank0_failure_reaches_every_rank(tmp_path_factory):
    from mpi4py import MPI

    comm = MPI.COMM_WORLD

    def full():
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OutputError) as e:
        rank0_call(comm, full, "runs/x/history.csv")
    assert (e.value.path, e.value.reason) == ("runs/x/history.csv", "No space left on device")

    def bad():
        raise ParameterError("restart", "checkpoint written for another mesh")

    with pytest.raises(ParameterError, match="parameter 'restart': checkpoint written for another mesh"):
        rank0_call(comm, bad, "ckpt", "read")
    assert rank0_call(comm, lambda: comm.rank + 7, "x", share=True) == 7  # rank 0's result everywhere


@pytest.mark.mpi
def test_agree_raises_a_failure_of_the_last_rank_on_all():
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    mine = OutputError(Path("fields/f000003.pvtu"), "No space left on device") if comm.rank == comm.size - 1 \
        else None
    with pytest.raises(GpfemError, match="cannot write fields/f000003.pvtu: No space left on device"):
        agree(comm, mine)
    agree(comm, None)  # nobody failed: nothing raised, and the ranks still meet
    assert comm.allreduce(1) == comm.size


@pytest.mark.mpi
def test_lock_verdict_on_every_rank(tmp_path_factory):
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    folder = Path(comm.bcast(str(tmp_path_factory.mktemp("lock")) if comm.rank == 0 else None, root=0))
    lock = RunLock(folder, comm).acquire()
    with pytest.raises(RunFolderBusy):
        RunLock(folder, comm).acquire()
    lock.release()  # rank 0 alone: no collective on the way out of a failure
    comm.barrier()
    assert not (folder / LOCK_NAME).exists()
