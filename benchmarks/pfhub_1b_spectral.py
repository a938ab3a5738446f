"""An independent reference for PFHub 1b: a cosine-spectral (DCT) Cahn-Hilliard solver in numpy.

No-flux walls are exact for a cosine series, so PFHub 1b's 200 x 200 square is solved on an N x N
cell-centred grid with a linearly stabilised semi-implicit scheme (first order in time):

    (1 + dt M S k^2 + dt M kappa k^4) c^_{n+1} = (1 + dt M S k^2) c^_n - dt M k^2 f'(c_n)^ .

It shares no code with gpfem; it is here to check gpfem's PFHub 1b energies against an independent
discretisation, and prints them beside the range of five independent PFHub 1b results (MEMPHIS, three MOOSE
uploads, a spectral check).

    .venv/bin/python benchmarks/pfhub_1b_spectral.py [--n 256] [--t-end 10000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.fft import dctn, idctn

RHO, C_A, C_B, KAPPA, M, L = 5.0, 0.3, 0.7, 2.0, 5.0, 200.0
TIMES = (0, 1, 10, 100, 1000, 3000, 10000)
#: t -> (lowest, highest) F of five independent PFHub 1b results (see benchmarks/pfhub_1b.py).
REFERENCE = {100: (128.1, 131.6), 1000: (72.8, 75.0), 3000: (51.8, 55.9), 10000: (38.6, 42.8)}
#: dt by time window: small while the pattern forms, larger while it coarsens.
SCHEDULE = [(100.0, 0.01), (1000.0, 0.05), (10000.0, 0.25)]


def solve(n: int, t_end: float, scale: float = 1.0) -> dict[float, float]:
    """Free energy at the PFHub output times, up to ``t_end`` (``scale`` multiplies every dt)."""
    h = L / n
    x = (np.arange(n) + 0.5) * h
    X, Y = np.meshgrid(x, x, indexing="ij")
    c = 0.5 + 0.01 * (np.cos(0.105 * X) * np.cos(0.11 * Y) + (np.cos(0.13 * X) * np.cos(0.087 * Y)) ** 2
                      + np.cos(0.025 * X - 0.15 * Y) * np.cos(0.07 * X - 0.02 * Y))
    k = np.pi * np.arange(n) / L
    K2 = k[:, None] ** 2 + k[None, :] ** 2
    S = 2.0

    def fprime(c: np.ndarray) -> np.ndarray:
        return 2 * RHO * (c - C_A) * (C_B - c) * (C_B + C_A - 2 * c)

    def energy(ch: np.ndarray, c: np.ndarray) -> float:
        bulk = np.sum(RHO * (c - C_A) ** 2 * (C_B - c) ** 2)
        return float((bulk + 0.5 * KAPPA * np.sum(K2 * ch**2)) * h * h)

    ch = dctn(c, norm="ortho")
    out = {0.0: energy(ch, c)}
    t = 0.0
    for t_stop, dt in SCHEDULE:
        dt *= scale
        lhs = 1 + dt * M * S * K2 + dt * M * KAPPA * K2**2
        while t < min(t_stop, t_end) - 1e-9:
            ch = (ch * (1 + dt * M * S * K2) - dt * M * K2 * dctn(fprime(c), norm="ortho")) / lhs
            c = idctn(ch, norm="ortho")
            t = round(t + dt, 9)
            if t in TIMES:
                out[t] = energy(ch, c)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--t-end", type=float, default=10000.0)
    a = ap.parse_args()
    t0 = time.perf_counter()
    res = solve(a.n, a.t_end)
    half = solve(a.n, min(a.t_end, 100.0), scale=0.5)
    wall = time.perf_counter() - t0
    print(f"DCT spectral reference, {a.n} x {a.n}, dt schedule {SCHEDULE}, {wall:.0f} s")
    print(f"{'t':>7s} {'spectral F':>11s} {'dt/2 F':>9s} {'five codes':>15s}")
    for t in TIMES:
        if float(t) in res:
            f = res[float(t)]
            f2 = half.get(float(t))
            f2s = f"{f2:9.4f}" if f2 is not None else " " * 9
            rng = f"{REFERENCE[t][0]:6.1f} - {REFERENCE[t][1]:6.1f}" if t in REFERENCE else ""
            print(f"{t:7d} {f:11.4f} {f2s} {rng:>15s}")

if __name__ == "__main__":
    main()
