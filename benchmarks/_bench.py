"""Shared helpers of the suite scripts: run one ``gpfem run`` case under mpiexec and measure it.

A case runs the real command line (``mpiexec -n R gpfem run MODEL --preset P --set ...``) in a fresh
process tree, so wall time includes start-up and form compilation (``setup``) and the time loop. Newton
and KSP iterations are counted from PETSc's own monitors on every solver prefix of the model; peak memory
is the largest resident set of one process of the tree (``wait4`` rusage: the busiest rank).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PREFIXES", "Case", "Row", "format_table", "launch_worker", "machine", "run_case"]

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PREFIXES = {"cahn-hilliard": ["gpfem_ch_"], "fracture": ["gpfem_displacement_", "gpfem_damage_"],
            "martensite": ["gpfem_gl_"]}
_SNES = re.compile(r"^\s*(\d+) SNES Function norm", re.M)
_KSP = re.compile(r"^\s*(\d+) KSP (?:preconditioned |unpreconditioned |true )?[Rr]esidual norm", re.M)


@dataclass
class Case:
    """One benchmark case: a model, a preset, overrides and PETSc options (without prefixes)."""

    name: str
    model: str
    preset: str
    sets: dict[str, object] = field(default_factory=dict)
    petsc: dict[str, str] = field(default_factory=dict)


@dataclass
class Row:
    """What one run of a case measured."""

    problem: str
    dofs: int
    ranks: int
    steps: int
    newton: int
    ksp: int
    wall: float
    peak_mb: float
    status: str
    ratio: float = float("nan")

    @property
    def us_per_dof_newton(self) -> float:
        """Wall microseconds per DOF per Newton iteration."""
        return 1e6 * self.wall / max(self.dofs * max(self.newton, 1), 1)


def launch_worker(script: str | Path, args: list[str], ranks: int, timeout: float | None = None) -> dict:
    """``python SCRIPT --worker ARGS`` on ``ranks`` ranks in a fresh process tree: its ``RESULT`` JSON line.

    The worker prints one line ``RESULT {...}`` on rank 0 (gpfem from this checkout, one OpenMP thread).

    Raises:
        RuntimeError: If the worker printed no result (its output's tail is in the message).
    """
    cmd = [sys.executable, str(script), "--worker", *args]
    if ranks > 1:
        cmd = [str(BIN / "mpiexec"), "-n", str(ranks), *cmd]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(line[7:])


def _count(pattern: re.Pattern, text: str) -> int:
    """Iterations from monitor lines: every line but each solve's iteration-0 line."""
    its = [int(m) for m in pattern.findall(text)]
    return len(its) - its.count(0)


def run_case(case: Case, ranks: int, timeout: float = 600, backend: str | None = None) -> Row:
    """Run ``case`` on ``ranks`` MPI ranks and measure it."""
    out = Path(tempfile.mkdtemp(prefix=f"gpfem-bench-{case.model}-"))
    cmd = [str(BIN / "gpfem"), "run", case.model, "--preset", case.preset, "--out", str(out), "--quiet",
           "--set", "png=false", "--set", "output_format=none", "--set", "checkpoint_interval=0"]
    if backend:
        cmd += ["--backend", backend]
    for k, v in case.sets.items():
        cmd += ["--set", f"{k}={json.dumps(v) if isinstance(v, list) else v}"]
    for pre in PREFIXES[case.model]:
        cmd += [f"-{pre}snes_monitor", f"-{pre}ksp_monitor"]
        for k, v in case.petsc.items():
            cmd += [f"-{pre}{k}", str(v)] if v != "" else [f"-{pre}{k}"]
    if ranks > 1:
        cmd = [str(BIN / "mpiexec"), "-n", str(ranks), *cmd]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        watchdog = threading.Timer(timeout, p.kill)  # a hung run ends as a failed row, not a hung suite
        watchdog.start()
        try:
            _, status, usage = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
        except BaseException:
            p.kill()
            raise
        finally:
            watchdog.cancel()
        wall = time.perf_counter() - t0
        log.seek(0)
        text = log.read()
    s = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else {}
    res = s.get("results", {})
    dofs = res.get("dofs") or (res.get("dofs_u", 0) + res.get("dofs_alpha", 0))
    st = s.get("status", f"exit {p.returncode}")
    if p.returncode != 0 and st == "completed":
        st = f"exit {p.returncode}"
    return Row(problem=case.name, dofs=int(dofs), ranks=ranks, steps=int(res.get("steps", 0)),
               newton=_count(_SNES, text), ksp=_count(_KSP, text), wall=wall,
               peak_mb=usage.ru_maxrss / 1024.0, status=st)


def format_table(rows: list[Row]) -> str:
    """One Markdown table."""
    hdr = ("| problem | DOFs | ranks | steps | Newton | KSP | wall s | us/DOF/Newton | peak MB/rank "
           "| ratio vs ref | status |")
    lines = [hdr, "|" + "---|" * 11]
    for r in rows:
        lines.append(f"| {r.problem} | {r.dofs} | {r.ranks} | {r.steps} | {r.newton} | {r.ksp} | "
                     f"{r.wall:.2f} | {r.us_per_dof_newton:.2f} | {r.peak_mb:.0f} | {r.ratio:.2f} | "
                     f"{r.status} |")
    return "\n".join(lines)


def machine() -> str:
    """CPU model, cores, load average: the machine line printed with every table."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{cpu}, {os.cpu_count()} cores, load average {load} at start"
