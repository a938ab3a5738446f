"""Adaptive mesh refinement against the fixed meshes, side by side in one invocation.

* ``sent``: ``gpfem run fracture --preset sent`` (hand-made band mesh, h = 0.0075 in 0.45 <= y <= 0.55)
  against ``--preset sent-amr`` (uniform h = 0.06, refined where the crack is and ahead of it to
  h_K <= ell/2): peak force within 1%, DOFs, wall time.
* ``pfhub``: ``--preset pfhub-1b`` (uniform 200 x 200, h = 1) against ``--preset pfhub-1b-amr`` (50 x 50
  base, interfaces refined twice to h = 1), both to ``--t-end`` (1000): free energy within 1% at t = 100
  and 1000, DOFs, wall time.

Every case runs on each ``--np`` (default 1 and 2), reference and adaptive in turn (so both see the same
machine load), and the adaptive runs on 1 and 2 ranks are compared with each other. DOFs over time of the
adaptive runs are printed from their history.

    .venv/bin/python benchmarks/amr.py [--case sent|pfhub|all] [--np 1 2] [--t-end 1000] [--out DIR]
    .venv/bin/python benchmarks/amr.py --from runs/bench-amr     # tables of finished runs
    .venv/bin/python benchmarks/amr.py --case pfhub --np 2 --only adaptive   # 2-rank adaptive run only
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
CASES = {
    "sent": ("fracture", "sent", "sent-amr", []),
    "pfhub": ("cahn-hilliard", "pfhub-1b", "pfhub-1b-amr", ["field_interval=0"]),
}
PFHUB_TIMES = (100.0, 1000.0)


def run(model: str, preset: str, out: Path, np: int, sets: list[str]) -> float:
    """Run one case; return the wall time of the whole command (start-up included)."""
    cmd = [str(BIN / "gpfem"), "run", model, "--preset", preset, "--out", str(out), "--quiet",
           "--set", "png=false"]
    if np > 1:
        cmd = [str(BIN / "mpiexec"), "-n", str(np), *cmd]
    for kv in sets:
        cmd += ["--set", kv]
    load0 = os.getloadavg()[0]
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of the whole command, all ranks (mpiexec waits for its proxies, they for the ranks)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    (out / "bench_wall.json").write_text(json.dumps({"wall_s": wall, "np": np, "cpu_s": cpu,
                                                     "load_start": load0, "load_end": os.getloadavg()[0]}))
    return wall


def load(out: Path) -> dict:
    """History rows, summary results and the command's wall time of a finished run."""
    rows = list(csv.DictReader((out / "history.csv").open()))
    s = json.loads((out / "summary.json").read_text())
    wall = json.loads((out / "bench_wall.json").read_text())
    return {"rows": rows, "res": s["results"], "np": s["mpi_size"], "wall": wall["wall_s"],
            "cpu": wall.get("cpu_s", s["results"].get("loop_cpu_time_s")), "cpu_all": "cpu_s" in wall,
            "load": (wall.get("load_start"), wall.get("load_end"))}


def _cpu(r: dict) -> str:
    return f"{r['cpu']:7.1f}" if r.get("cpu") is not None else f"{'-':>7s}"


def _load(r: dict) -> str:
    a, b = r["load"]
    return f"{a:4.1f}-{b:4.1f}" if a is not None else f"{'-':>9s}"


def _dofs(r: dict) -> tuple[int, int, int]:
    res = r["res"]
    start = res.get("dofs_start", res.get("dofs", 0) or res.get("dofs_u", 0) + res.get("dofs_alpha", 0))
    return int(start), int(res.get("dofs_end", start)), int(res.get("dofs_max", start))


def _iterations(r: dict) -> int:
    key = "alt_min_iterations" if "alt_min_iterations" in r["rows"][0] else "newton_iterations"
    return sum(int(float(x[key] or 0)) for x in r["rows"])


def _f_at(r: dict, t: float) -> float:
    for x in r["rows"]:
        if abs(float(x["time"]) - t) <= 1e-9 * t:
            return float(x["free_energy"])
    return float("nan")


def table(case: str, runs: dict[tuple[str, int], dict]) -> str:
    """The side-by-side table of one case, the verdicts and the adaptive DOFs over time."""
    nps = sorted({n for _, n in runs})
    lines = [f"== {case} =="]
    if case == "sent":  # the case's own columns: iteration count, then two results
        it_head, it_w = "alt-min", 7
        heads = f"{'peak kN':>9s} {'u@peak':>9s}"
        def results(r: dict) -> str:
            return f"{r['res']['peak_force']:9.5f} {r['res']['load_at_peak']:9.6f}"
    else:
        it_head, it_w = "Newton", 6
        heads = f"{'F(100)':>10s} {'F(1000)':>10s}"
        def results(r: dict) -> str:
            return f"{_f_at(r, 100.0):10.4f} {_f_at(r, 1000.0):10.4f}"
    lines.append(f"{'run':10s} {'ranks':>5s} {'DOFs start':>10s} {'end':>7s} {'max':>7s} {'steps':>5s} "
                 f"{it_head:>{it_w}s} {'adapts':>6s} {heads} {'wall s':>7s} {'CPU s':>7s} {'load':>9s}")
    for (kind, n), r in sorted(runs.items(), key=lambda kv: (kv[0][1], kv[0][0] != "reference")):
        d0, d1, dm = _dofs(r)
        lines.append(f"{kind:10s} {n:5d} {d0:10d} {d1:7d} {dm:7d} {r['res']['steps']:5d} "
                     f"{_iterations(r):{it_w}d} {r['res'].get('adapts', 0):6d} {results(r)} "
                     f"{r['wall']:7.1f} {_cpu(r)} {_load(r)}")
    if any(not r["cpu_all"] and r.get("cpu") is not None for r in runs.values()):
        lines.append("CPU s: the command's CPU time over all ranks; for runs without it "
                     "(older bench_wall.json) the time loop's CPU time on rank 0 (loop_cpu_time_s)")
    for n in nps:
        ref, amr = runs.get(("reference", n)), runs.get(("adaptive", n))
        if ref is None or amr is None:
            continue
        _, _, dm_ref = _dofs(ref)
        _, _, dm_amr = _dofs(amr)
        if case == "sent":
            diff = amr["res"]["peak_force"] / ref["res"]["peak_force"] - 1
            what = f"peak {amr['res']['peak_force']:.5f} vs {ref['res']['peak_force']:.5f} kN ({diff:+.2%})"
        else:
            diffs = [_f_at(amr, t) / _f_at(ref, t) - 1 for t in PFHUB_TIMES]
            what = "F " + ", ".join(f"{d:+.3%} at t = {t:g}" for d, t in zip(diffs, PFHUB_TIMES, strict=True))
        cpu = ""
        if amr.get("cpu") and ref.get("cpu"):
            cpu = f"; CPU {amr['cpu']:.1f} vs {ref['cpu']:.1f} s ({ref['cpu'] / amr['cpu']:.2f}x)"
        lines.append(f"{n} rank(s): {what}; max DOFs {dm_amr} vs {dm_ref} ({dm_amr / dm_ref:.2f}x); "
                     f"wall {amr['wall']:.1f} vs {ref['wall']:.1f} s (reference/adaptive "
                     f"{ref['wall'] / amr['wall']:.2f}x){cpu}")
    a1, a2 = runs.get(("adaptive", 1)), runs.get(("adaptive", 2))
    if a1 is not None and a2 is not None:
        if case == "sent":
            d = abs(a2["res"]["peak_force"] / a1["res"]["peak_force"] - 1)
            lines.append(f"adaptive 1 vs 2 ranks: peak force differs by {d:.2e} (relative), "
                         f"max DOFs {_dofs(a1)[2]} / {_dofs(a2)[2]}")
        else:
            d = max(abs(_f_at(a2, t) / _f_at(a1, t) - 1) for t in PFHUB_TIMES)
            lines.append(f"adaptive 1 vs 2 ranks: F differs by at most {d:.2e} (relative) at t = 100, 1000; "
                         f"max DOFs {_dofs(a1)[2]} / {_dofs(a2)[2]}")
    amr = runs.get(("adaptive", nps[0]))
    if amr is not None:
        lines.append("DOFs over " + ("load steps" if case == "sent" else "time") + " (adaptive, "
                     f"{nps[0]} rank(s)), at every change:")
        key = "load" if case == "sent" else "time"
        last, pts = None, []
        for x in amr["rows"]:
            if x["dofs"] != last:
                pts.append(f"{float(x[key]):.6g}: {int(float(x['dofs']))}")
                last = x["dofs"]
        pts.append(f"{float(amr['rows'][-1][key]):.6g}: {int(float(amr['rows'][-1]['dofs']))} (end)")
        lines.append("  " + ", ".join(pts))
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", choices=[*CASES, "all"], default="all")
    ap.add_argument("--np", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--t-end", type=float, default=1000.0, help="pfhub: final time")
    ap.add_argument("--out", default="runs/bench-amr")
    ap.add_argument("--from", dest="from_dir", help="only print the tables of finished runs")
    ap.add_argument("--only", choices=["reference", "adaptive"], help="run only this kind (e.g. the adaptive "
                    "run on 2 ranks, to compare with 1 rank); the table shows whatever runs are in --out")
    a = ap.parse_args()
    cases = list(CASES) if a.case == "all" else [a.case]
    root = Path(a.from_dir or a.out)
    for case in cases:
        model, ref_preset, amr_preset, extra = CASES[case]
        sets = list(extra)
        if case == "pfhub":
            sets.append(f"t_end={a.t_end}")
            sets.append("stop_times=[1, 10, 100, 1000, 3000, 10000]")
        runs: dict[tuple[str, int], dict] = {}
        for n in a.np:
            for kind, preset in (("reference", ref_preset), ("adaptive", amr_preset)):
                out = root / f"{case}-{kind}-np{n}"
                if not a.from_dir and a.only in (None, kind):
                    print(f"running {preset} on {n} rank(s) -> {out}", flush=True)
                    run(model, preset, out, n, sets)
                if (out / "bench_wall.json").exists():
                    runs[(kind, n)] = load(out)
        if not runs:  # e.g. --from a folder with the other case's runs only
            print(f"== {case} ==\nno finished runs in {root}", flush=True)
            continue
        print(table(case, runs), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
