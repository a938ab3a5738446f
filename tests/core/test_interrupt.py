"""SIGTERM stops a 2-rank run inside a step that would never end, with the last accepted state checkpointed.

Batch systems send SIGTERM and kill the job after a grace period (Slurm's KillWait, 30 s). Phase B below
restarts a run with PETSc options under which the Newton solve of the next step never converges nor stops
(convergence test ``skip``, 10^9 iterations): the only way out is to abandon the step. Without that (the
old "finish this step, then checkpoint") the run never ends and the test fails on its deadline.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import numpy as np
import pytest
from helpers import BIN, MPIEXEC, ROOT, read_csv, read_json, run_cli

from gpfem.base.interrupt import graceful_stop, request_stop, stop_now, stop_requested

OUT_OPTS = ["--set", "png=false", "--set", "output_format=none", "--set", "checkpoint_interval=0"]
# model, preset, the prefix of the solve made endless, its extra options, accepted steps before, total steps
CASES = {
    "cahn-hilliard": ("ci", "gpfem_ch_", ["snes_linesearch_type", "basic"], 4, 8),
    # the crack-step situation of the issue: alternate minimisation, the damage (VI) solve never ends
    "fracture": ("sent-ci", "gpfem_damage_", [], 3, 6),
}
KILL_WAIT = 30.0  # Slurm's default grace period between SIGTERM and SIGKILL


def _checkpoint(path):
    with np.load(path) as z:
        return json.loads(str(z["__meta__"])), {k: z[k].copy() for k in z.files if k != "__meta__"}


def test_request_flags_are_reset_per_run():
    with graceful_stop():
        assert not stop_requested() and not stop_now()
        request_stop(urgent=False)
        assert stop_requested() and not stop_now()
        request_stop(urgent=True)
        assert stop_now()
    assert not stop_requested() and not stop_now()


SIGNAL_RULES = """
import os, signal, sys, time
from gpfem.base import interrupt as I
def send(sig):
    os.kill(os.getpid(), sig)
    time.sleep(0.05)
    print(signal.Signals(sig).name, int(I.stop_requested()), int(I.stop_now()), flush=True)
with I.graceful_stop():
    send(signal.SIGTERM); send(signal.SIGTERM)
with I.graceful_stop():
    send(signal.SIGINT); send(signal.SIGINT); send(signal.SIGINT)
"""


def test_signal_rules():
    """SIGTERM: stop now, repeats ignored; SIGINT: after the step, now, then end without a checkpoint."""
    p = subprocess.run([str(BIN / "python"), "-c", SIGNAL_RULES], capture_output=True, text=True, timeout=60,
                       cwd=ROOT)
    assert p.stdout.split("\n")[:-1] == ["SIGTERM 1 1", "SIGTERM 1 1", "SIGINT 1 0", "SIGINT 1 1"], p.stderr
    assert p.returncode == -signal.SIGINT  # the third Ctrl-C: the default action, no handler, no checkpoint
    assert p.stderr.count("SIGTERM received") == 1  # the second SIGTERM (mpiexec's copy) is silent


@pytest.mark.parametrize("model", sorted(CASES))
def test_sigterm_abandons_a_never_ending_step_on_2_ranks_and_restart_reproduces_the_history(tmp_path, model):
    preset, prefix, extra, k, n = CASES[model]
    never = [f"-{prefix}snes_convergence_test", "skip", f"-{prefix}snes_max_it", "1000000000"]
    never += [f"-{prefix}{extra[0]}", extra[1]] if extra else []
    ref, out = tmp_path / "ref", tmp_path / "run"
    start = ["run", model, "--preset", preset, *OUT_OPTS]
    run_cli([*start, "--out", str(ref), "--set", f"max_steps={n}"], np=2)
    # A: the first k steps, then B: restart into a step whose Newton solve never ends
    run_cli([*start, "--out", str(out), "--set", f"max_steps={k}"], np=2)
    meta_a, fields_a = _checkpoint(out / "checkpoint.npz")
    assert meta_a["step"] == k
    log = tmp_path / "b.log"
    cmd = [str(MPIEXEC), "-n", "2", str(BIN / "gpfem"), "run", model, "--restart", str(out),
           "--set", f"max_steps={n}", *never]
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT,
                                env=dict(os.environ, OMP_NUM_THREADS="1"))
    try:
        deadline = time.time() + 300
        while "restarted from" not in log.read_text() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.1)
        time.sleep(2.0)  # well inside the step: tens of Newton iterations of these meshes
        assert proc.poll() is None, log.read_text()
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGTERM)  # to mpiexec, which forwards it to the ranks
        rc = proc.wait(timeout=KILL_WAIT)
        print(f"SIGTERM to exit: {time.perf_counter() - t0:.2f} s")
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert rc == 130, text
    assert "Traceback" not in text and "SIGTERM received" in text
    stopped = [ln for ln in text.splitlines() if ln.startswith(f"stopped (solve '{prefix}' stopped at")]
    assert stopped and int(stopped[0].split("iteration ")[1].split(")")[0]) > 0, text  # mid-solve
    assert read_json(out / "summary.json")["status"] == "interrupted"
    rows = read_csv(out / "history.csv")
    assert [r["step"] for r in rows] == list(range(k + 1))  # no row of the abandoned step
    meta_b, fields_b = _checkpoint(out / "checkpoint.npz")
    tcol = "time" if "time" in rows[-1] else "load"  # fracture: pseudo-time = the load (monotonic here)
    assert meta_b["step"] == rows[-1]["step"] == k and meta_b["time"] == pytest.approx(rows[-1][tcol])
    assert meta_b == meta_a and fields_b.keys() == fields_a.keys()
    for name in fields_a:  # the last accepted state, not the abandoned Newton iterate
        np.testing.assert_array_equal(fields_b[name], fields_a[name])
    # C: restart with the normal solver: the history of the uninterrupted run, to round-off
    run_cli(["run", model, "--restart", str(out), "--set", f"max_steps={n}"], np=2)
    assert read_json(out / "summary.json")["status"] == "stopped (max_steps)"  # n steps: short of the end
    got, want = read_csv(out / "history.csv"), read_csv(ref / "history.csv")
    assert len(got) == len(want) == n + 1
    for a, b in zip(got, want, strict=True):
        assert a.keys() == b.keys()
        for key in b:
            assert a[key] == pytest.approx(b[key], rel=1e-9, abs=1e-12, nan_ok=True), (key, a["step"])
