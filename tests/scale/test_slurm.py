"""The Slurm jobs under a real (one-node) Slurm: containers/slurm/local-cluster.sh --test.

The script installs Debian's slurm-wlm when it is missing, so the test runs where that is possible (root,
apt-get, the Debian mirror reachable) or Slurm is already installed, and skips with the reason elsewhere.
It submits gpfem-run.sbatch (mpiexec and srun --mpi=pmi2) and scaling.sbatch and compares them with
plain mpiexec runs, cancels a job in its crack step and restarts it (see the script's header).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

SCRIPT = ROOT / "containers" / "slurm" / "local-cluster.sh"
STATE = Path(os.environ.get("GPFEM_SLURM_DIR", "/tmp/gpfem-slurm"))


def _installed() -> bool:
    return all(shutil.which(c) for c in ("slurmctld", "slurmd", "sbatch", "munged"))


def _mirror_reachable() -> str | None:
    hosts = set()
    for f in [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*")]:
        if f.is_file():
            hosts |= set(re.findall(r"https?://([^/\s:]+)", f.read_text(errors="replace")))
    for host in sorted(hosts):
        try:
            socket.create_connection((host, 80), timeout=5).close()
            return None
        except OSError:
            continue
    return f"no connection to the Debian mirror ({', '.join(sorted(hosts)) or 'no apt sources'})"


def _port_taken_by_another_slurm() -> str | None:
    ours = STATE / "run" / "slurmctld.pid"
    with socket.socket() as s:
        busy = s.connect_ex(("127.0.0.1", 6817)) == 0
    if busy and not ours.exists():
        return "port 6817 is taken (another slurmctld?): the local cluster would clash with it"
    return None


def _why_not() -> str | None:
    if os.environ.get("SLURM_JOB_ID"):
        return "inside a Slurm job already"
    if os.geteuid() != 0:
        return "needs root (starts munged, slurmctld and slurmd; installs slurm-wlm if missing)"
    if not _installed():
        if not shutil.which("apt-get"):
            return "slurm-wlm is not installed and there is no apt-get"
        if why := _mirror_reachable():
            return f"slurm-wlm is not installed and {why}"
    return _port_taken_by_another_slurm()


def test_jobs_under_a_local_slurm_match_plain_mpiexec_and_scancel_restarts():
    if why := _why_not():
        pytest.skip(why)
    p = subprocess.run(["bash", str(SCRIPT), "--test"], capture_output=True, text=True, timeout=1500,
                       cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS="1"))
    print(p.stdout[-6000:])
    assert p.returncode == 0, p.stdout[-6000:] + p.stderr[-3000:]
    assert "all checks passed" in p.stdout and "FAIL" not in p.stdout
    for check in ("gpfem-run.sbatch history = plain mpiexec -n 2",
                  "gpfem-run.sbatch (srun --mpi=pmi2) history = plain mpiexec -n 2",
                  "scaling.sbatch table = plain run", "scancel: checkpoint = last history row",
                  "restarted history = uninterrupted plain run"):
        assert f"PASS {check}" in p.stdout


def test_skip_reasons_name_the_missing_piece(monkeypatch):
    me = sys.modules[__name__]
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.setattr(me.os, "geteuid", lambda: 1000)
    assert "needs root" in me._why_not()
    monkeypatch.setattr(me.os, "geteuid", lambda: 0)
    monkeypatch.setattr(me, "_installed", lambda: False)
    monkeypatch.setattr(me.shutil, "which", lambda _c: None)
    assert "no apt-get" in me._why_not()
    monkeypatch.setenv("SLURM_JOB_ID", "1")
    assert "inside a Slurm job" in me._why_not()
