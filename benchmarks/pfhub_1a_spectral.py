"""PFHub 1a (periodic square) beside an independent FFT pseudo-spectral Cahn-Hilliard solver in numpy.

PFHub benchmark 1a: f = rho (c - c_a)^2 (c_b - c)^2 with rho = 5, c_a = 0.3, c_b = 0.7, kappa = 2, M = 5,
on the 200 x 200 square with periodic boundaries, c(x, 0) = 0.5 + 0.01 [cos(0.105x)cos(0.11y)
+ (cos(0.13x)cos(0.087y))^2 + cos(0.025x - 0.15y)cos(0.07x - 0.02y)] (not periodic itself: both codes
sample it on [0, 200), so the seam at x = 0 = 200 is where it jumps).

The reference solver shares no code with gpfem: a Fourier series on an N x N grid x_j = j L / N, the
nonlinear term evaluated pointwise and transformed (no dealiasing), second-order stabilised
semi-implicit BDF2 in time (SBDF2; each dt window starts with one first-order step):

    (3/2 + dt M S k^2 + dt M kappa k^4) c^_{n+1} = 2 c^_n - 1/2 c^_{n-1}
                                                   - dt M k^2 [f'(c*)^ - S c*^],   c* = 2 c_n - c_{n-1}.

It prints F at t = 100, 1000, 10000 (and 0, 1, 10, 3000) beside gpfem's ``pfhub-1a`` run, with DOFs,
steps, ranks and wall time of both, plus the same spectral run at dt/2 to t = 1000 (time error).

    .venv/bin/python benchmarks/pfhub_1a_spectral.py                        # runs gpfem on 2 ranks too
    .venv/bin/python benchmarks/pfhub_1a_spectral.py --from runs/pfhub-1a   # a finished gpfem run
    .venv/bin/python benchmarks/pfhub_1a_spectral.py --n 256 --t-end 1000 --np 2
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RHO, C_A, C_B, KAPPA, M, L = 5.0, 0.3, 0.7, 2.0, 5.0, 200.0
TIMES = (0.0, 1.0, 10.0, 100.0, 1000.0, 3000.0, 10000.0)
#: (end of window, dt): small while the pattern forms, larger while it coarsens.
SCHEDULE = ((10.0, 0.01), (100.0, 0.05), (1000.0, 0.2), (10000.0, 0.5))
BIN = Path(sys.executable).parent


def initial(n: int) -> np.ndarray:
    """PFHub 1's initial composition sampled at x_j = j L / n (periodic grid)."""
    x = np.arange(n) * (L / n)
    X, Y = np.meshgrid(x, x, indexing="ij")
    return 0.5 + 0.01 * (np.cos(0.105 * X) * np.cos(0.11 * Y) + (np.cos(0.13 * X) * np.cos(0.087 * Y)) ** 2
                         + np.cos(0.025 * X - 0.15 * Y) * np.cos(0.07 * X - 0.02 * Y))


def solve(n: int, t_end: float, scale: float = 1.0, stab: float = 2.0) -> dict:
    """Free energy at the output times up to ``t_end``; ``scale`` multiplies every dt of the schedule."""
    h = L / n
    k = 2 * np.pi * np.fft.fftfreq(n, d=h)
    kr = 2 * np.pi * np.fft.rfftfreq(n, d=h)
    K2 = k[:, None] ** 2 + kr[None, :] ** 2
    weight = np.full(kr.shape, 2.0)  # rfft2 holds half the spectrum: count the mirrored modes twice
    weight[0] = 1.0
    if n % 2 == 0:
        weight[-1] = 1.0

    def fprime(c: np.ndarray) -> np.ndarray:
        return 2 * RHO * (c - C_A) * (C_B - c) * (C_A + C_B - 2 * c)

    def energy(c: np.ndarray, ch: np.ndarray) -> float:
        bulk = np.sum(RHO * (c - C_A) ** 2 * (C_B - c) ** 2) * h * h
        grad = 0.5 * KAPPA * np.sum(weight[None, :] * K2 * np.abs(ch) ** 2) * h * h / n**2
        return float(bulk + grad)

    c = initial(n)
    ch = np.fft.rfft2(c)
    out = {0.0: energy(c, ch)}
    mass0 = c.mean()
    t, steps = 0.0, 0
    t0 = time.perf_counter()
    for t_stop, dt in SCHEDULE:
        dt *= scale
        c_old = ch_old = None
        while t < min(t_stop, t_end) - 1e-9:
            if c_old is None:  # first step of a window: backward Euler + stabilisation
                rhs = ch - dt * M * K2 * (np.fft.rfft2(fprime(c)) - stab * ch)
                new = rhs / (1 + dt * M * stab * K2 + dt * M * KAPPA * K2**2)
            else:
                cs = 2 * c - c_old
                chs = 2 * ch - ch_old
                rhs = 2 * ch - 0.5 * ch_old - dt * M * K2 * (np.fft.rfft2(fprime(cs)) - stab * chs)
                new = rhs / (1.5 + dt * M * stab * K2 + dt * M * KAPPA * K2**2)
            c_old, ch_old = c, ch
            ch = new
            c = np.fft.irfft2(ch, s=(n, n))
            t = round(t + dt, 9)
            steps += 1
            if t in TIMES:
                out[t] = energy(c, ch)
    return {"F": out, "steps": steps, "wall": time.perf_counter() - t0, "dofs": n * n,
            "mass_drift": abs(c.mean() - mass0), "c": c}


def gpfem_run(out: Path, np_: int, t_end: float) -> float:
    """Run ``gpfem run cahn-hilliard --preset pfhub-1a`` under mpiexec; return its wall time."""
    cmd = [str(BIN / "mpiexec"), "-n", str(np_), str(BIN / "gpfem"), "run", "cahn-hilliard", "--preset",
           "pfhub-1a", "--out", str(out), "--quiet", "--set", "png=false", "--set", f"t_end={t_end}"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    return time.perf_counter() - t0


def gpfem_result(out: Path) -> dict:
    rows = list(csv.DictReader((out / "history.csv").open()))
    s = json.loads((out / "summary.json").read_text())
    return {"F": {float(r["time"]): float(r["free_energy"]) for r in rows},
            "steps": s["results"]["steps"], "rejected": s["results"]["rejected_steps"],
            "newton": sum(int(r["newton_iterations"]) for r in rows), "dofs": s["results"]["dofs"],
            "ranks": s["mpi_size"], "wall": s["wall_time_s"], "t_end": s["results"]["final_time"],
            "mass_drift": abs(s["results"]["final_mass"] / s["results"]["initial_mass"] - 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=256, help="spectral grid points per side")
    ap.add_argument("--t-end", type=float, default=10000.0)
    ap.add_argument("--np", type=int, default=2, help="MPI ranks of the gpfem run")
    ap.add_argument("--out", default="runs/bench-pfhub-1a", help="folder of the gpfem run")
    ap.add_argument("--from", dest="from_dir", help="use a finished gpfem run instead of running one")
    ap.add_argument("--save", help="write the spectral c at the end to this .npy file")
    a = ap.parse_args()
    g_dir = Path(a.from_dir or a.out)
    if a.from_dir is None:
        gpfem_run(g_dir, a.np, a.t_end)
    g = gpfem_result(g_dir)
    t_end = min(a.t_end, g["t_end"])
    s = solve(a.n, t_end)
    if a.save:
        np.save(a.save, s["c"])
    s2 = solve(a.n, min(t_end, 1000.0), scale=0.5)
    print(f"PFHub 1a (periodic 200 x 200), load average {os.getloadavg()[0]:.1f} at the end")
    print(f"{'code':34s} {'DOFs':>8s} {'ranks':>5s} {'steps':>7s} {'wall s':>8s} {'mass drift':>10s}")
    print(f"{'gpfem P1 x P1, h = 1, adaptive CN':34s} {g['dofs']:8d} {g['ranks']:5d} {g['steps']:7d} "
          f"{g['wall']:8.0f} {g['mass_drift']:10.1e}")
    print(f"{f'FFT spectral {a.n}^2, SBDF2':34s} {s['dofs']:8d} {1:5d} {s['steps']:7d} {s['wall']:8.0f} "
          f"{s['mass_drift']:10.1e}")
    print(f"  (gpfem: {g['rejected']} rejected steps, {g['newton']} Newton iterations; spectral dt "
          f"schedule {SCHEDULE})")
    print(f"{'t':>7s} {'gpfem F':>10s} {'spectral F':>11s} {'dt/2 F':>10s} {'gpfem vs spectral':>18s}")
    worst = 0.0
    for t in TIMES:
        if t > t_end:
            break
        f, r = g["F"].get(t), s["F"].get(t)
        half = s2["F"].get(t)
        hs = f"{half:10.4f}" if half is not None else " " * 10
        if f is None or r is None:
            fs = "-" if f is None else f"{f:10.4f}"
            rs = "-" if r is None else f"{r:11.4f}"
            print(f"{t:7.0f} {fs:>10s} {rs:>11s} {hs}")
            continue
        worst = max(worst, abs(f / r - 1)) if t >= 100 else worst
        print(f"{t:7.0f} {f:10.4f} {r:11.4f} {hs} {f / r - 1:+18.3%}")
    print(f"largest |gpfem / spectral - 1| at t >= 100: {worst:.3%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
