"""Run presets with their defaults and check that each shows what it is for, with time and machine load.

Each preset runs as ``mpiexec -n NP gpfem run MODEL --preset P`` (its defaults, PNGs off) and is judged from
its ``history.csv`` and ``summary.json`` by the preset's check below: the spinodal coarsens (the
characteristic length l = sigma A / F grows, F falls), the PFHub presets land on their references, twins
lie at 45 degrees, a wall has its energy, the 3D box forms variants on {110} planes. The table gives wall
time, DOFs, steps and the median 1-minute load average sampled while the preset ran (the machine is shared:
times are only comparable at similar load).

    .venv/bin/python benchmarks/preset_audit.py                          # the presets that take minutes
    .venv/bin/python benchmarks/preset_audit.py cahn-hilliard:spinodal martensite:twins-2d
    .venv/bin/python benchmarks/preset_audit.py --all                    # + pfhub-1a/1b/1d (long)
    .venv/bin/python benchmarks/preset_audit.py --from runs/audit        # judge finished runs again
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

BIN = Path(sys.executable).parent
QUICK = ["cahn-hilliard:ci", "cahn-hilliard:demo", "cahn-hilliard:spinodal", "cahn-hilliard:pfhub-1c",
         "martensite:ci", "martensite:wall-1d", "martensite:twins-2d", "martensite:cubic-tetragonal-3d"]
LONG = ["cahn-hilliard:pfhub-1a", "cahn-hilliard:pfhub-1b", "cahn-hilliard:pfhub-1d"]


def sigma_ch(p: dict[str, Any]) -> float:
    """Interface energy of the double well: sqrt(2 kappa rho_s) (c_beta - c_alpha)^3 / 6."""
    return math.sqrt(2 * p["kappa"] * p["rho_s"]) * abs(p["c_beta"] - p["c_alpha"]) ** 3 / 6


def area_ch(p: dict[str, Any]) -> float:
    """Area of the built-in CH domain."""
    if p["geometry"] == "tshape":
        return 4000.0
    if p["geometry"] == "sphere":
        return 4 * math.pi * p["radius"] ** 2
    return p["Lx"] * p["Ly"]


def at(rows: list[dict[str, float]], t: float, key: str) -> float:
    """``key`` at time ``t`` (linear between rows)."""
    ts = [r["time"] for r in rows]
    for k in range(1, len(rows)):
        if ts[k] >= t:
            a, b = rows[k - 1], rows[k]
            s = (t - a["time"]) / (b["time"] - a["time"]) if b["time"] > a["time"] else 1.0
            return a[key] + s * (b[key] - a[key])
    return rows[-1][key]


def check_ch(rows: list[dict[str, float]], s: dict[str, Any], p: dict[str, Any],
             preset: str) -> tuple[str, bool]:
    """Coarsening: F falls at every step, l = sigma A / F grows; PFHub presets against their references."""
    f = [r["free_energy"] for r in rows]
    m = [r["mass"] for r in rows]
    monotone = all(b <= a * (1 + 1e-9) for a, b in zip(f, f[1:], strict=False))
    mass_ok = max(abs(x - m[0]) for x in m) <= 1e-9 * abs(m[0])
    t_end = rows[-1]["time"]
    ell = sigma_ch(p) * area_ch(p) / f[-1]
    t1 = t_end / 10
    ell1 = sigma_ch(p) * area_ch(p) / at(rows, t1, "free_energy")
    slope = math.log(ell / ell1) / math.log(10)
    msg = (f"F {f[0]:.4g} -> {f[-1]:.4g} ({f[-1] / f[0] - 1:+.0%}); l = sigma A / F {ell1:.3g} at "
           f"t = {t1:g} -> {ell:.3g} at t = {t_end:g} (x{ell / ell1:.2f}, l ~ t^{slope:.2f})")
    ok = monotone and mass_ok and f[-1] < f[0]
    if preset == "pfhub-1b":
        ref = {100: (128.1, 131.6), 1000: (72.8, 75.0), 3000: (51.8, 55.9), 10000: (38.6, 42.8)}
        inside = [lo <= at(rows, t, "free_energy") <= hi for t, (lo, hi) in ref.items()]
        msg += f"; inside the five-code range at {sum(inside)}/4 times"
        ok = ok and all(inside)
    elif preset == "pfhub-1c":
        flat = 100 * sigma_ch(p)
        msg += f"; F(10000) vs 5 flat interfaces {flat:.4f}: {f[-1] / flat - 1:+.2%}"
        ok = ok and abs(f[-1] / flat - 1) < 0.01
    elif preset in ("demo", "spinodal"):
        ok = ok and ell > 1.3 * ell1
    return msg, ok


def check_martensite(rows: list[dict[str, float]], s: dict[str, Any], p: dict[str, Any],
                     preset: str) -> tuple[str, bool]:
    """Twins at 45 degrees, the wall's energy, variants in 3D on {110} planes; energy never rises."""
    e = [r["total_energy"] for r in rows]
    ok = all(b <= a + 1e-10 * abs(a) for a, b in zip(e, e[1:], strict=False))
    fr = [rows[-1][k] for k in rows[-1] if k.startswith("variant_fraction_")]
    msg = f"E {e[0]:.4g} -> {e[-1]:.4g}; fractions {' / '.join(f'{x:.3f}' for x in fr)}"
    if "wall_orientation" in s and "wall" not in s:  # a single wall (wall-1d) is axis-aligned by design
        o = s["wall_orientation"]
        msg += f"; wall angle {o['angle_deg']:.1f} deg, <cos 4 theta> = {o['cos4']:+.2f}"
        ok = ok and abs(o["angle_deg"] - 45.0) < 5.0 and o["cos4"] < -0.7 and min(fr) > 0.3
    if "wall" in s:
        w = s["wall"]
        msg += f"; wall energy {w['wall_energy']:.5f}, gradient part / wall {w['equipartition_ratio']:.4f}"
        ok = ok and abs(w["equipartition_ratio"] - 0.5) < 2e-3
    if "twin_planes" in s:
        tp = s["twin_planes"]["all"]
        if "within_110" in tp:
            w10, r10 = tp["within_110"]["10"], tp["random_within_110"]["10"]
            msg += (f"; walls within 10 deg of {{110}}: {w10:.2f} (isotropic {r10:.2f}), "
                    f"<n_x^4+n_y^4+n_z^4> = {tp['cubic_moment']:.3f} ({{110}}: 0.5, isotropic 0.6)")
            # three variants form, and the walls lie near {110} far more often than random normals would
            ok = ok and w10 > 2 * r10 and tp["cubic_moment"] < 0.6
        ok = ok and min(fr) > 0.05
        if s.get("stopped_by"):
            msg += f"; stopped at t = {rows[-1]['time']:g}: {s['stopped_by']}"
    return msg, ok


CHECKS: dict[str, Callable[..., tuple[str, bool]]] = {"cahn-hilliard": check_ch,
                                                      "martensite": check_martensite}


def read_rows(path: Path) -> list[dict[str, float]]:
    with path.open() as fh:
        return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(fh)]


def run(model: str, preset: str, out: Path, np_: int) -> tuple[float, float]:
    """Run one preset; return (wall s, median 1-min load average while it ran)."""
    loads: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            loads.append(float(Path("/proc/loadavg").read_text().split()[0]))
            done.wait(5.0)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    cmd = [str(BIN / "gpfem"), "run", model, "--preset", preset, "--out", str(out), "--quiet",
           "--set", "png=false"]
    if np_ > 1:
        cmd = [str(BIN / "mpiexec"), "-n", str(np_), *cmd]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t0
    done.set()
    th.join()
    return wall, median(loads) if loads else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("presets", nargs="*", help="model:preset (default: the quick list)")
    ap.add_argument("--all", action="store_true", help="also the long PFHub runs")
    ap.add_argument("--np", type=int, default=2)
    ap.add_argument("--out", default="runs/audit")
    ap.add_argument("--from", dest="from_dir", help="judge the runs already in this folder")
    a = ap.parse_args()
    todo = a.presets or (QUICK + (LONG if a.all else []))
    root = Path(a.from_dir or a.out)
    times_file = root / "times.json"
    times = json.loads(times_file.read_text()) if times_file.exists() else {}
    print("| preset | DOFs | ranks | steps | wall s | load | shows | ok |")
    print("|---|---|---|---|---|---|---|---|")
    bad = 0
    for item in todo:
        model, preset = item.split(":")
        out = root / f"{model}-{preset}"
        if not a.from_dir:
            wall, load = run(model, preset, out, a.np)
            times[item] = {"wall": wall, "load": load}
            root.mkdir(parents=True, exist_ok=True)
            times_file.write_text(json.dumps(times, indent=1))
        s = json.loads((out / "summary.json").read_text())
        msg, ok = CHECKS[model](read_rows(out / "history.csv"), s["results"], s["parameters"], preset)
        bad += not ok
        tm = times.get(item, {"wall": s["wall_time_s"], "load": float("nan")})
        print(f"| {model} {preset} | {s['results']['dofs']} | {s['mpi_size']} | {s['results']['steps']} | "
              f"{tm['wall']:.0f} | {tm['load']:.1f} | {msg} | {'yes' if ok else 'NO'} |", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
