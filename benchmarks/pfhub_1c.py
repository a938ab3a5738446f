"""PFHub benchmark 1c (Cahn-Hilliard on the T-shape, no-flux) to t = 10,000, at h = 1 and h = 0.5.

Runs ``gpfem run cahn-hilliard --preset pfhub-1c`` under ``mpiexec -n NP`` (default 2) at the preset's
h = 1 and at h = 0.5 (the reference run: spatial convergence), and prints the free energy at
t = 0, 1, 10, 100, 1000, 3000, 10000 beside

- F(0) by Gauss-Legendre quadrature of the analytic initial condition on the T (31.88361),
- a MOOSE upload to PFHub 1c (X. Guan, github.com/xiaoyuguan/Spinodal, ``ch_teemesh_Guan``: its CSV
  interpolated linearly to these times; mesh not stated in the upload),
- the energy of the state every run ends in, five flat interfaces of length 20 (two across the bar, three
  across the stem): 100 sigma with sigma = sqrt(2 kappa rho_s) (c_beta - c_alpha)^3 / 6 = 0.047702,

with DOFs, steps, Newton iterations, ranks and wall time of each run; ``--plot PNG`` draws F(t).

    .venv/bin/python benchmarks/pfhub_1c.py [--np 2] [--out runs/bench-pfhub-1c] [--plot docs/images/x.png]
    .venv/bin/python benchmarks/pfhub_1c.py --from runs/pfhub-1c runs/pfhub-1c-h05 [--plot PNG]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import subprocess
import sys
import time
from pathlib import Path

TIMES = (0, 1, 10, 100, 1000, 3000, 10000)
F0_QUADRATURE = 31.883605
#: The MOOSE upload (Guan), interpolated to the PFHub times.
MOOSE_GUAN = {0: 31.884169, 1: 31.857980, 10: 26.8406, 100: 13.9072, 1000: 8.6937, 3000: 4.801278,
              10000: 4.801278}
SIGMA = math.sqrt(2 * 2.0 * 5.0) * 0.4**3 / 6
FLAT_5 = 100 * SIGMA
BIN = Path(sys.executable).parent


def load(out: Path) -> tuple[dict, list[dict]]:
    rows = list(csv.DictReader((out / "history.csv").open()))
    return json.loads((out / "summary.json").read_text()), rows


def table(runs: list[tuple[str, Path, float | None]]) -> str:
    data = [(name, *load(out), wall) for name, out, wall in runs]
    lines = []
    for name, s, rows, wall in data:
        w = wall if wall is not None else s["wall_time_s"]
        lines.append(f"{name}: {s['results']['dofs']} DOFs, {s['mpi_size']} ranks, "
                     f"{s['results']['steps']} steps ({s['results']['rejected_steps']} rejected), "
                     f"{sum(int(r['newton_iterations']) for r in rows)} Newton, {w:.0f} s wall")
    head = f"{'t':>7s}" + "".join(f" {name:>12s}" for name, *_ in data) + f" {'MOOSE (Guan)':>13s}"
    lines.append(head)
    for t in TIMES:
        cells = []
        for _, _, rows, _ in data:
            by_t = {float(r["time"]): float(r["free_energy"]) for r in rows}
            f = by_t.get(float(t))
            cells.append(f" {f:12.4f}" if f is not None else f" {'-':>12s}")
        lines.append(f"{t:7d}" + "".join(cells) + f" {MOOSE_GUAN[t]:13.4f}")
    lines.append(f"F(0) by quadrature {F0_QUADRATURE:.5f}; five flat interfaces of length 20: "
                 f"100 sigma = {FLAT_5:.4f}")
    return "\n".join(lines)


def plot(runs: list[tuple[str, Path, float | None]], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, out, _ in runs:
        _, rows = load(out)
        t = [float(r["time"]) for r in rows if float(r["time"]) > 0]
        f = [float(r["free_energy"]) for r in rows if float(r["time"]) > 0]
        ax.loglog(t, f, label=f"gpfem {name}")
    ts = [t for t in TIMES if t > 0]
    ax.loglog(ts, [MOOSE_GUAN[t] for t in ts], "ks", mfc="none", label="MOOSE upload (Guan)")
    ax.axhline(FLAT_5, color="grey", ls=":", label=f"5 flat interfaces: {FLAT_5:.3f}")
    ax.set_xlabel("t")
    ax.set_ylabel("free energy F")
    ax.set_title("PFHub 1c: T-shape, no-flux")
    ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--np", type=int, default=2)
    ap.add_argument("--out", default="runs/bench-pfhub-1c")
    ap.add_argument("--from", dest="from_dirs", nargs="+", help="tables of finished runs (h = 1 first)")
    ap.add_argument("--plot", help="write F(t) to this PNG")
    a = ap.parse_args()
    if a.from_dirs:
        runs = [(f"run {k + 1}", Path(d), None) for k, d in enumerate(a.from_dirs)]
    else:
        runs = []
        for name, h in (("h = 1", 1.0), ("h = 0.5", 0.5)):
            out = Path(f"{a.out}-h{h:g}")
            cmd = [str(BIN / "mpiexec"), "-n", str(a.np), str(BIN / "gpfem"), "run", "cahn-hilliard",
                   "--preset", "pfhub-1c", "--out", str(out), "--quiet", "--set", "png=false",
                   "--set", f"h={h}"]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True)
            runs.append((name, out, time.perf_counter() - t0))
    if a.from_dirs and len(runs) == 2:
        runs = [("h = 1", runs[0][1], None), ("h = 0.5", runs[1][1], None)]
    print(table(runs))
    if a.plot:
        plot(runs, Path(a.plot))
        print(f"wrote {a.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
