"""PFHub benchmark 1a (Cahn-Hilliard, 200 x 200 square, no-flux) to t = 10,000, beside PRISMS-PF.

Runs ``gpfem run cahn-hilliard --preset pfhub-bm1a`` under ``mpiexec -n NP`` (default 2) and prints the
free energy at t = 0, 1, 10, 100, 1000, 3000, 10000 beside the PRISMS-PF submission's published values,
the wall time beside its published 708 s on 2 cores, DOFs, steps and Newton iterations.

    .venv/bin/python benchmarks/pfhub_bm1a.py [--np 2] [--out runs/bench-pfhub-bm1a] [--set key=value ...]
    .venv/bin/python benchmarks/pfhub_bm1a.py --from runs/bench-pfhub-bm1a    # table of a finished run
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

PRISMS = {0: 319.0337, 1: 318.8274, 10: 304.1772, 100: 115.6166, 1000: 70.3538, 3000: 52.5063,
          10000: 40.81065}
PRISMS_WALL_S = 708.0
BIN = Path(sys.executable).parent


def table(out: Path, wall: float | None) -> str:
    rows = list(csv.DictReader((out / "history.csv").open()))
    by_t = {float(r["time"]): r for r in rows}
    s = json.loads((out / "summary.json").read_text())
    lines = [f"PFHub 1a: {s['results']['dofs']} DOFs, {s['mpi_size']} ranks, "
             f"{s['results']['steps']} steps ({s['results']['rejected_steps']} rejected), "
             f"{sum(int(r['newton_iterations']) for r in rows)} Newton iterations",
             f"{'t':>7s} {'gpfem F':>12s} {'PRISMS-PF F':>12s} {'rel. diff':>10s}"]
    worst = 0.0
    for t, ref in PRISMS.items():
        r = by_t.get(float(t))
        if r is None:
            lines.append(f"{t:7d} {'(not reached)':>12s} {ref:12.4f}")
            continue
        f = float(r["free_energy"])
        worst = max(worst, abs(f / ref - 1))
        lines.append(f"{t:7d} {f:12.4f} {ref:12.4f} {f / ref - 1:+10.2%}")
    w = wall if wall is not None else s["wall_time_s"]
    lines.append(f"largest relative difference {worst:.2%} (target 1%)")
    lines.append(f"wall time {w:.0f} s on {s['mpi_size']} ranks vs PRISMS-PF 708 s on 2 cores "
                 f"(ratio {PRISMS_WALL_S / w:.2f}x; target >= 2x)")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--np", type=int, default=2)
    ap.add_argument("--out", default="runs/bench-pfhub-bm1a")
    ap.add_argument("--from", dest="from_dir", help="only print the table of a finished run")
    ap.add_argument("--set", dest="sets", action="append", default=[])
    a = ap.parse_args()
    if a.from_dir:
        print(table(Path(a.from_dir), None))
        return 0
    cmd = [str(BIN / "mpiexec"), "-n", str(a.np), str(BIN / "gpfem"), "run", "cahn-hilliard",
           "--preset", "pfhub-bm1a", "--out", a.out, "--set", "png=false"]
    for kv in a.sets:
        cmd += ["--set", kv]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    print(table(Path(a.out), time.perf_counter() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
