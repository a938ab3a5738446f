"""PFHub benchmark 1b (Cahn-Hilliard, 200 x 200 square, no-flux) to t = 10,000, beside published results.

Runs ``gpfem run cahn-hilliard --preset pfhub-1b`` under ``mpiexec -n NP`` (default 2) and prints the
free energy at t = 0, 1, 10, 100, 1000, 3000, 10000 beside the range of five independent PFHub 1b results
(MEMPHIS, three MOOSE uploads, a spectral check; ``REFERENCE``) and the quadrature value of F(0), with the
wall time, DOFs, steps and Newton iterations.

PRISMS-PF's no-flux upload (F(100) = 115.6) is not used: it was computed with the gradient energy
0.5 kappa (c_x + c_y)^2 in place of 0.5 kappa (c_x^2 + c_y^2) (fixed upstream in 2026).

    .venv/bin/python benchmarks/pfhub_1b.py [--np 2] [--out runs/bench-pfhub-1b] [--set key=value ...]
    .venv/bin/python benchmarks/pfhub_1b.py --from runs/bench-pfhub-1b    # table of a finished run
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

#: F(0) by Gauss-Legendre quadrature of the analytic initial condition (400^2 points; 600^2 agrees to 1e-13).
F0_QUADRATURE = 319.04328
#: t -> (lowest, highest) F of five independent PFHub 1b results: MEMPHIS, three MOOSE uploads and a
#: spectral check.
REFERENCE = {100: (128.1, 131.6), 1000: (72.8, 75.0), 3000: (51.8, 55.9), 10000: (38.6, 42.8)}
TIMES = (0, 1, 10, 100, 1000, 3000, 10000)
BIN = Path(sys.executable).parent


def table(out: Path, wall: float | None) -> str:
    rows = list(csv.DictReader((out / "history.csv").open()))
    by_t = {float(r["time"]): r for r in rows}
    s = json.loads((out / "summary.json").read_text())
    lines = [f"PFHub 1b: {s['results']['dofs']} DOFs, {s['mpi_size']} ranks, "
             f"{s['results']['steps']} steps ({s['results']['rejected_steps']} rejected), "
             f"{sum(int(r['newton_iterations']) for r in rows)} Newton iterations",
             f"{'t':>7s} {'gpfem F':>12s} {'reference':>17s} {'':>8s}"]
    inside = 0
    for t in TIMES:
        r = by_t.get(float(t))
        f = float(r["free_energy"]) if r is not None else None
        fs = f"{f:12.4f}" if f is not None else f"{'(not reached)':>12s}"
        if t == 0:
            ref, verdict = f"{F0_QUADRATURE:17.4f}", (f"{f / F0_QUADRATURE - 1:+8.1e}" if f else "")
        elif t in REFERENCE:
            lo, hi = REFERENCE[t]
            ref = f"{lo:8.1f} - {hi:6.1f}"
            verdict = "" if f is None else ("inside" if lo <= f <= hi else "OUTSIDE")
            inside += verdict == "inside"
        else:
            ref, verdict = "", ""
        lines.append(f"{t:7d} {fs} {ref:>17s} {verdict:>8s}")
    w = wall if wall is not None else s["wall_time_s"]
    lines.append(f"{inside} of {len(REFERENCE)} reference times inside the range of "
                 "five codes (MEMPHIS, 3 x MOOSE, spectral)")
    lines.append(f"wall time {w:.0f} s on {s['mpi_size']} ranks")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--np", type=int, default=2)
    ap.add_argument("--out", default="runs/bench-pfhub-1b")
    ap.add_argument("--from", dest="from_dir", help="only print the table of a finished run")
    ap.add_argument("--set", dest="sets", action="append", default=[])
    a = ap.parse_args()
    if a.from_dir:
        print(table(Path(a.from_dir), None))
        return 0
    cmd = [str(BIN / "mpiexec"), "-n", str(a.np), str(BIN / "gpfem"), "run", "cahn-hilliard",
           "--preset", "pfhub-1b", "--out", a.out, "--set", "png=false"]
    for kv in a.sets:
        cmd += ["--set", kv]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    print(table(Path(a.out), time.perf_counter() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
