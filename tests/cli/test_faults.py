"""Faults of the environment end a run with one line, on 1 rank and on 2, and destroy nothing on disk.

One test per row of the fault table in docs/faults.md: disk full (a small tmpfs, which needs root: skipped
otherwise), an unusable ``--out``, damaged checkpoint and ``params.json``, a restart on another mesh, a kill
while a restart rewrites ``history.csv``, a torn history row, two runs in one folder. Every run has a
timeout (a hang fails the test) and every failure must be exactly one ``gpfem: error:`` line naming the file
and the reason, without a traceback, leaving no temporary file and no lock behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import BIN, ROOT, read_csv, run_cli

TIMEOUT = 120
#: A small Cahn-Hilliard run: 24 x 24 elements, 9 steps to t = 1, a checkpoint every 4 steps (two
#: generations on disk at the end).
BASE = ["run", "cahn-hilliard", "--preset", "ci", "--set", "t_end=1", "--set", "png=false",
        "--set", "checkpoint_interval=4", "--quiet"]


def run(args: list[str], np: int = 1) -> subprocess.CompletedProcess:
    return run_cli(args, np=np, check=False, timeout=TIMEOUT)


def error_line(proc: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    """The one ``gpfem: error:`` line of a failed run (any other stderr line must be a warning)."""
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("gpfem: error: ")]
    assert len(errors) == 1, proc.stderr
    assert all(ln.startswith("gpfem: warning: ") for ln in lines if ln not in errors), proc.stderr
    for f in fragments:
        assert f in errors[0], errors[0]
    return errors[0]


def warnings_of(proc: subprocess.CompletedProcess) -> list[str]:
    return [ln for ln in proc.stderr.splitlines() if ln.startswith("gpfem: warning: ")]


def assert_clean(out: Path) -> None:
    """No temporary file, probe file or lock left in a run folder."""
    marks = (".gpfem-probe", ".gpfem.lock")
    left = [p for p in out.rglob("*") if ".tmp" in p.name or p.name.startswith(marks)]
    assert not left, left


def steps(out: Path) -> list[int]:
    """The steps of ``history.csv``; every line whole (ends with its newline, 8 columns)."""
    raw = (out / "history.csv").read_bytes()
    assert raw.endswith(b"\n"), raw[-80:]
    lines = raw.decode().splitlines()
    assert all(len(ln.split(",")) == 8 for ln in lines), lines
    return [int(ln.split(",")[0]) for ln in lines[1:]]


@pytest.fixture(scope="module")
def base_run(tmp_path_factory) -> Path:
    """A finished run (9 steps, checkpoints at steps 4, 8 and 9) that tests copy and damage."""
    out = tmp_path_factory.mktemp("faults") / "base"
    run_cli([*BASE, "--out", str(out)], timeout=TIMEOUT)
    assert steps(out) == list(range(10))
    assert (out / "checkpoint.prev.npz").exists()
    return out


@pytest.fixture
def copy_run(base_run, tmp_path):
    def make(name: str = "run") -> Path:
        out = tmp_path / name
        shutil.copytree(base_run, out)
        return out

    return make


@pytest.fixture
def small_disk(tmp_path):
    """``mount(size, ro=False)``: a new tmpfs of that size at ``tmp_path/disk``, unmounted after the test."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    mounted = []

    def mount(size: str, ro: bool = False, remount: bool = False) -> Path:
        if os.geteuid() != 0:
            pytest.skip("a small tmpfs (disk full, read-only) needs root to mount")
        opts = f"size={size}" + (",ro" if ro else "") + (",remount" if remount else "")
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(mnt)], capture_output=True,
                           text=True)
        if p.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {p.stderr.strip()}")
        if not remount:
            mounted.append(mnt)
        return mnt

    yield mount
    for m in mounted:
        subprocess.run(["umount", "-l", str(m)], capture_output=True)


# -- disk full ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ranks", [1, 2])
def test_disk_full_during_a_run_keeps_the_checkpoint_and_restart_continues(small_disk, ranks):
    """The field series fills a 200 kB disk after the first checkpoints: one line, exit 1; with more space the
    restart continues from the last good checkpoint and the history has every step once."""
    out = small_disk("200k") / "run"
    args = ["run", "cahn-hilliard", "--preset", "ci", "--set", "png=false", "--set", "checkpoint_interval=2",
            "--quiet"]
    proc = run([*args, "--out", str(out)], np=ranks)
    error_line(proc, 1, f"cannot write {out}", ": No space left on device")
    assert_clean(out)
    with np.load(out / "checkpoint.npz") as z:
        assert json.loads(str(z["__meta__"]))["step"] >= 2
    small_disk("4m", remount=True)
    again = run(["run", "cahn-hilliard", "--restart", str(out), "--quiet"], np=ranks)
    assert again.returncode == 0, again.stderr
    rows = steps(out)
    assert rows == list(range(len(rows)))  # every step once
    assert read_csv(out / "history.csv")[-1]["time"] == 20.0  # the ci preset's t_end
    assert_clean(out)


@pytest.mark.parametrize("ranks", [1, 2])
def test_disk_full_while_history_grows_leaves_no_torn_row(small_disk, ranks):
    """12 kB: the lock, params.json and a page of history.csv; the row that does not fit is cut off again."""
    out = small_disk("12k") / "run"
    proc = run(["run", "cahn-hilliard", "--preset", "ci", "--set", "png=false", "--set", "output_format=none",
                "--set", "checkpoint_interval=0", "--set", "t_end=200", "--quiet", "--out", str(out)],
               np=ranks)
    error_line(proc, 1, f"cannot write {out / 'history.csv'}: No space left on device")
    rows = steps(out)  # whole lines only
    assert rows == list(range(len(rows))) and len(rows) > 20
    assert_clean(out)


@pytest.mark.parametrize("ranks", [1, 2])
def test_disk_full_at_a_checkpoint_removes_its_temporary_file(small_disk, ranks):
    out = small_disk("12k") / "run"
    proc = run(["run", "cahn-hilliard", "--preset", "ci", "--set", "png=false", "--set", "output_format=none",
                "--set", "checkpoint_interval=5", "--quiet", "--out", str(out)], np=ranks)
    error_line(proc, 1, f"cannot write {out / 'checkpoint.npz'}: No space left on device")
    assert_clean(out)
    assert steps(out) == list(range(6))


@pytest.mark.parametrize("ranks", [1, 2])
def test_a_field_piece_one_rank_cannot_write_ends_every_rank(tmp_path, ranks):
    """DOLFINx reports no failed .vtu write: a folder where the last rank's second piece goes makes that
    write fail on that rank alone; the piece check after every output ends the run on every rank."""
    out = tmp_path / "run"
    piece = out / "fields" / f"fields_p{ranks - 1}_000001.vtu"
    piece.mkdir(parents=True)
    proc = run(["run", "cahn-hilliard", "--preset", "ci", "--set", "png=false", "--set", "field_interval=1",
                "--set", "t_end=1", "--quiet", "--out", str(out)], np=ranks)
    error_line(proc, 1, f"cannot write {piece}: missing or cut short")
    assert_clean(out)
    entries = (out / "fields.pvd").read_text().count("<DataSet")
    assert entries == 1  # the index names only the output written whole


# -- --out -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ranks", [1, 2])
def test_out_is_a_file_or_under_a_file(tmp_path, ranks):
    f = tmp_path / "afile"
    f.write_text("x")
    error_line(run([*BASE, "--out", str(f)], np=ranks), 2, f"parameter 'out': {f} is a file, not a folder")
    error_line(run([*BASE, "--out", str(f / "sub")], np=ranks), 2, f"{f} is a file, not a folder")
    assert f.read_text() == "x"


@pytest.mark.parametrize("ranks", [1, 2])
def test_out_not_writable(tmp_path, small_disk, ranks):
    if os.geteuid() != 0:  # chmod 500 stops anyone but root
        d = tmp_path / "ro"
        d.mkdir()
        d.chmod(0o500)
        reason = "Permission denied"
    else:  # root writes through any mode: a read-only file system stops it
        d = small_disk("64k", ro=True)
        reason = "Read-only file system"
    error_line(run([*BASE, "--out", str(d / "run")], np=ranks), 1, f"cannot create {d / 'run'}: {reason}")
    error_line(run([*BASE, "--out", str(d)], np=ranks), 1, f"cannot create {d / '.gpfem.lock'}: {reason}")


# -- damaged checkpoint and params.json ------------------------------------------------------------------

def damage(path: Path, how: str) -> None:
    if how == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "random":
        path.write_bytes(np.random.default_rng(0).bytes(4000))
    else:
        path.write_bytes(b"")


@pytest.mark.parametrize("how", ["truncated", "random", "empty"])
def test_damaged_checkpoint_falls_back_to_the_previous_one(copy_run, how):
    out = copy_run()
    damage(out / "checkpoint.npz", how)
    proc = run(["run", "cahn-hilliard", "--restart", str(out), "--set", "t_end=2", "--quiet"])
    assert proc.returncode == 0, proc.stderr
    (w,) = warnings_of(proc)
    assert f"{out / 'checkpoint.npz'} is unreadable" in w and "previous checkpoint" in w and "(step 8)" in w
    rows = steps(out)
    assert rows == list(range(len(rows))) and rows[-1] > 9  # rows 9.. again from the step-8 checkpoint
    assert_clean(out)


@pytest.mark.parametrize("ranks", [1, 2])
def test_both_checkpoints_damaged_one_line(copy_run, ranks):
    out = copy_run()
    damage(out / "checkpoint.npz", "truncated")
    damage(out / "checkpoint.prev.npz", "empty")
    before = (out / "history.csv").read_bytes()
    proc = run(["run", "cahn-hilliard", "--restart", str(out), "--set", "t_end=2", "--quiet"], np=ranks)
    error_line(proc, 1, f"cannot read {out / 'checkpoint.npz'}: unreadable",
               "checkpoint.prev.npz: unreadable")
    assert (out / "history.csv").read_bytes() == before
    assert_clean(out)


@pytest.mark.parametrize("ranks", [1, 2])
def test_damaged_newest_checkpoint_on_two_ranks(copy_run, ranks):
    out = copy_run()
    damage(out / "checkpoint.npz", "random")
    proc = run(["run", "cahn-hilliard", "--restart", str(out), "--set", "t_end=2", "--quiet"], np=ranks)
    assert proc.returncode == 0 and len(warnings_of(proc)) == 1, proc.stderr


@pytest.mark.parametrize("ranks", [1, 2])
def test_truncated_params_json_one_line(copy_run, ranks):
    out = copy_run()
    p = out / "params.json"
    p.write_text(p.read_text()[:100])
    proc = run(["run", "cahn-hilliard", "--restart", str(out), "--quiet"], np=ranks)
    error_line(proc, 1, f"cannot read {p}: unreadable")


# -- restart on another mesh -----------------------------------------------------------------------------

@pytest.mark.parametrize("ranks", [1, 2])
def test_restart_refuses_to_change_the_mesh(copy_run, ranks):
    out = copy_run()
    proc = run(["run", "cahn-hilliard", "--restart", str(out), "--set", "nx=20", "--quiet"], np=ranks)
    error_line(proc, 2, "parameter 'nx': defines the mesh", "(24 in", "20 asked")
    assert steps(out) == list(range(10))


@pytest.mark.parametrize("ranks", [1, 2])
def test_restart_with_an_edited_params_json_is_refused(copy_run, ranks):
    out = copy_run()
    p = out / "params.json"
    saved = json.loads(p.read_text())
    saved["parameters"]["nx"] = 20
    p.write_text(json.dumps(saved))
    proc = run(["run", "cahn-hilliard", "--restart", str(out), "--set", "t_end=2", "--quiet"], np=ranks)
    error_line(proc, 2, "checkpoint", "was written for another mesh (nx = 24 there, 20 here)")
    assert steps(out) == list(range(10))


def test_restart_checks_the_vertex_count_both_ways(copy_run):
    """A checkpoint of an older version stores no mesh values: its vertex count alone must match exactly."""
    for nx in (20, 30):
        out = copy_run(f"nx{nx}")
        for f in ("checkpoint.npz", "checkpoint.prev.npz"):
            with np.load(out / f) as z:
                data = {k: z[k] for k in z.files}
            meta = json.loads(str(data["__meta__"]))
            meta.pop("mesh")
            data["__meta__"] = np.array(json.dumps(meta))
            np.savez(out / f, **data)
        p = out / "params.json"
        saved = json.loads(p.read_text())
        saved["parameters"]["nx"] = nx
        p.write_text(json.dumps(saved))
        n_here = (nx + 1) * 25
        proc = run(["run", "cahn-hilliard", "--restart", str(out), "--set", "t_end=2", "--quiet"])
        error_line(proc, 2, "holds 625 vertex values of 'c'", f"this mesh has {n_here} vertices")


# -- history.csv on restart ------------------------------------------------------------------------------

def test_kill_during_the_history_rewrite_loses_no_row(copy_run):
    """The restart rewrites history.csv (rows up to its checkpoint) by rename: killed at that moment, the file
    still holds every row."""
    out = copy_run()
    (out / "checkpoint.prev.npz").replace(out / "checkpoint.npz")  # restart from step 8: row 9 goes
    before = (out / "history.csv").read_bytes()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([str(BIN / "gpfem"), "run", "cahn-hilliard", "--restart", str(out), "--set",
                             "t_end=50", "-v"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, cwd=ROOT)
    try:
        for line in proc.stdout:  # killed right after the checkpoint is read, when the history is rewritten
            if "restarted from" in line:
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=TIMEOUT)
    finally:
        proc.kill()
    rows = steps(out)
    assert rows == list(range(len(rows))) and len(rows) >= 9  # rows 0..8 at least, whatever the moment
    assert (out / "history.csv").read_bytes()[: len(before) - 200] == before[: len(before) - 200]
    again = run(["run", "cahn-hilliard", "--restart", str(out), "--set", "t_end=2", "--quiet"])
    assert again.returncode == 0, again.stderr
    rows = steps(out)
    assert rows == list(range(len(rows))) and rows[-1] > 9


def test_history_rewrite_is_atomic(tmp_path, monkeypatch):
    """In-process: a restart killed before its rename leaves the old history.csv whole, no temporary file."""
    from gpfem.io import collective
    from gpfem.io.history import HistoryWriter

    path = tmp_path / "history.csv"
    path.write_text("step,time\r\n0,0.0\r\n1,0.5\r\n2,1.0\r\n")
    before = path.read_bytes()

    def killed(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(collective.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        HistoryWriter(path, ["step", "time"], append=True, truncate_after=1)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.tmp"))


def test_torn_history_row_is_dropped_on_restart(copy_run):
    out = copy_run()
    with (out / "history.csv").open("ab") as fh:
        fh.write(b"10,5.849999999999987,")  # a row cut off by a full disk
    proc = run(["run", "cahn-hilliard", "--restart", str(out), "--set", "t_end=2", "--quiet"])
    assert proc.returncode == 0, proc.stderr
    (w,) = warnings_of(proc)
    assert "history.csv: dropped 1 torn or malformed row(s): '10,5.849999999999987,'" in w
    rows = steps(out)
    assert rows == list(range(len(rows))) and rows[-1] > 9  # no empty duplicate row 10


# -- an error on one rank only (a bug) ----------------------------------------------------------------

def test_an_error_on_one_rank_only_ends_the_job(tmp_path):
    """Rank 1 raises while rank 0 waits in a barrier: the job ends (MPI_Abort) instead of hanging."""
    model = tmp_path / "one_rank_bug.py"
    model.write_text(
        "from gpfem.app.registry import Spec\n"
        "def run(p, ctx):\n"
        "    if ctx.comm.rank == 1:\n"
        "        raise RuntimeError('a bug on rank 1 only')\n"
        "    ctx.comm.barrier()\n"
        "    return {}\n"
        "SPEC = Spec(name='one-rank-bug', description='x', parameters=[], presets={'p': {}}, run=run,\n"
        "            uses_mesh=False)\n")
    proc = run(["run", str(model), "--out", str(tmp_path / "o")], np=2)
    assert proc.returncode != 0
    assert "gpfem: error: rank 1: RuntimeError: a bug on rank 1 only; aborting the job" in proc.stderr


# -- two runs in one folder ------------------------------------------------------------------------------

def test_second_run_into_a_live_folder_is_refused_and_a_dead_lock_taken_over(tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    first = subprocess.Popen([str(BIN / "gpfem"), "run", "cahn-hilliard", "--preset", "ci", "--set",
                              "png=false", "--set", "t_end=100000", "--set", "dt_max=0.05", "--set",
                              "output_format=none", "--quiet", "--out", str(out)], env=env, cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        lock = out / ".gpfem.lock"
        t0 = time.monotonic()
        while not (out / "history.csv").exists() and time.monotonic() - t0 < TIMEOUT:
            assert first.poll() is None, first.stderr.read()
            time.sleep(0.2)
        holder = json.loads(lock.read_text())
        assert holder["pid"] == first.pid and holder["host"] == socket.gethostname()
        busy = f"cannot use run folder {out}: in use by gpfem pid {first.pid}"
        error_line(run([*BASE, "--out", str(out)]), 1, busy)
        error_line(run(["run", "cahn-hilliard", "--restart", str(out), "--quiet"], np=2), 1, busy)
        first.send_signal(signal.SIGKILL)  # dies holding the lock: the file stays, the flock goes
        first.wait(timeout=TIMEOUT)
    finally:
        first.kill()
    assert lock.exists()
    proc = run([*BASE, "--out", str(out)], np=2)
    assert proc.returncode == 0, proc.stderr
    (w,) = warnings_of(proc)
    assert f"took over the stale lock of pid {first.pid}" in w
    assert_clean(out)


def test_stale_lock_file_of_a_dead_process(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / ".gpfem.lock").write_text(json.dumps({"host": socket.gethostname(), "pid": 2**22 + 1,
                                                 "since": "2026-01-01T00:00:00"}))
    proc = run([*BASE, "--out", str(out)])
    assert proc.returncode == 0, proc.stderr
    assert "took over the stale lock of pid 4194305" in warnings_of(proc)[0]
    assert_clean(out)
