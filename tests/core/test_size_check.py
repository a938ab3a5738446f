"""The size check: estimate against free memory, refusal naming the parameter, --force, /proc files."""

import pytest

from gpfem.app.size_check import BASE_BYTES, SizeEstimate, cgroup_room, check_size, mem_available
from gpfem.base.errors import ParameterError

HUGE = SizeEstimate("nx", cells=2.0e16, dofs=2.0e16, bytes_per_dof=150.0)
SMALL = SizeEstimate("nx", cells=2.0e4, dofs=2.0e4, bytes_per_dof=1000.0)


def test_too_big_is_refused_with_the_estimate():
    with pytest.raises(ParameterError) as e:
        check_size(HUGE, available=22 * 10**9)
    assert str(e.value) == ("parameter 'nx': the mesh would have ~2.0e16 cells (~2.0e16 DOFs) and need "
                            "~3.0e18 bytes (available 22 GB); use --force to run anyway")


def test_force_goes_on_and_small_runs_pass(caplog):
    assert check_size(HUGE, available=22 * 10**9, force=True) == pytest.approx(BASE_BYTES + 3.0e18)
    assert "going on (--force)" in caplog.text
    assert check_size(SMALL, available=22 * 10**9) == pytest.approx(BASE_BYTES + 2.0e7)
    assert check_size(None, available=1) is None  # a plug-in without an estimate, or a mesh file


def test_the_limit_is_the_available_memory():
    need = SMALL.bytes_on_node()
    assert check_size(SMALL, available=int(need) + 1) == pytest.approx(need)
    with pytest.raises(ParameterError, match="use --force"):
        check_size(SMALL, available=int(need) - 1)


def test_memory_is_shared_by_the_ranks_on_a_node():
    est = SizeEstimate("h", cells=1e6, dofs=1e6, bytes_per_dof=1000.0)
    assert est.bytes_on_node(ranks=4, ranks_here=2) == pytest.approx(2 * (BASE_BYTES + 1e9 / 4))
    grow = SizeEstimate("nx", cells=1, dofs=8.0, bytes_per_dof=1.0, exponent=4.0 / 3.0)
    assert grow.bytes_on_node() == pytest.approx(BASE_BYTES + 16.0)


def test_proc_meminfo_and_cgroup_files(tmp_path, monkeypatch):
    info = tmp_path / "meminfo"
    info.write_text("MemTotal:       24683784 kB\nMemAvailable:   21474836 kB\n")
    import gpfem.app.size_check as sc

    monkeypatch.setattr(sc, "cgroup_room", lambda: None)
    assert mem_available(info) == 21474836 * 1024
    assert mem_available(tmp_path / "none") is None
    monkeypatch.setattr(sc, "cgroup_room", lambda: 10**9)  # a batch job's limit below the node's free memory
    assert mem_available(info) == 10**9
    # cgroup v2: limit less usage; "max" is no limit
    (tmp_path / "self").write_text("0::/job\n")
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "memory.max").write_text("4000000000\n")
    (tmp_path / "job" / "memory.current").write_text("1000000000\n")
    assert cgroup_room(tmp_path, tmp_path / "self") == 3 * 10**9
    (tmp_path / "job" / "memory.max").write_text("max\n")
    assert cgroup_room(tmp_path, tmp_path / "self") is None
    # cgroup v1 (memory controller)
    (tmp_path / "self").write_text("4:memory:/job\n0::/\n")
    (tmp_path / "memory" / "job").mkdir(parents=True)
    (tmp_path / "memory" / "job" / "memory.limit_in_bytes").write_text("2000000000\n")
    (tmp_path / "memory" / "job" / "memory.usage_in_bytes").write_text("500000000\n")
    assert cgroup_room(tmp_path, tmp_path / "self") == 15 * 10**8


@pytest.mark.mpi
def test_the_verdict_is_the_same_on_every_rank(comm):
    """The last rank's node has too little room, the others plenty: every rank refuses, naming the worst
    node's numbers (so a 2-rank job stops on both ranks, never one of them alone)."""
    need = SMALL.bytes_on_node(comm.size, comm.size)  # all ranks of this test share one node
    avail = int(need) - 1 if comm.rank == comm.size - 1 else 10**12
    with pytest.raises(ParameterError) as e:
        check_size(SMALL, comm, available=avail)
    assert f"(available {(int(need) - 1) / 1e9:.2g} GB" in str(e.value)
    assert ("for 2 ranks on this node" in str(e.value)) == (comm.size == 2)
    assert comm.allgather(str(e.value)) == [str(e.value)] * comm.size
