"""Solvers of the coupled fracture problem side by side: altmin, the hybrid and Anderson (``solver=``).

Every case runs the real command line (``[mpiexec -n R] gpfem run fracture --preset P --set solver=S``) in
a fresh process, on 1 and 2 ranks, with the same mesh, loads and stopping test (``altmin_tol``), and
prints one table: load steps, nonlinear iterations (alternate minimisations + Newton iterations of the
coupled problem, accepted steps), linear solves (one per Newton iteration of any SNES, rejected steps
included), wall time of the whole command, wall and CPU time of the time loop, peak resident memory per rank,
peak force, displacement at the peak and where the crack ends (tip of the centre line at the last step).
The set-ups (``--solvers``, labels of :data:`SOLVERS`): ``altmin`` (alternate minimisation with
over-relaxation), ``hybrid`` (alternate minimisation, then bounded Newton on the coupled problem once it
contracts), ``anderson`` (the default: alternate minimisation with Anderson acceleration of the damage
update, one-step displacement updates that reuse the Jacobian and its factorisation, ``u_reuse``),
``anderson-r1`` (the same without reuse), and ``altmin-base`` / ``anderson-base``: ``altmin`` / ``anderson``
run by the code of :data:`BASE_COMMIT` (``git archive`` into a temporary folder, put first on
``PYTHONPATH``), the alternate minimisation of the goals before this round's per-iteration changes (MUMPS
``L D L^T``, the damage Jacobian once per solve and the increment control of ``damage_increment_target``
help ``altmin`` too). The summary lines give the ratios against ``altmin`` and against ``altmin-base`` of
wall time, loop CPU time, iterations and linear solves, taken within one invocation; on a shared machine
the CPU-time ratio of the time loop is the steadier number. ``--repeat N`` runs every set-up N times,
interleaved, and the ratios use the median times.

Cases: ``sent`` (the preset) and ``shear-coarse`` (the ``shear`` preset with ell = 0.03, h_fine = 0.015,
h_coarse = 0.05, dload_min = 5e-5, to its end: ``stop_at_edge``, the crack at the bottom edge).
``--full-shear`` adds ``shear-full``: the ``shear`` preset itself (ell = 0.015, 23,307 DOFs) to the bottom
edge, the set-ups in reverse order (alternate minimisation last: about an hour on one core; leave it out of
``--solvers`` to skip it). Without an altmin row the new solvers are set against the stored run of
``altmin-base`` on the same mesh (1 rank, load 4-5): 132 steps, 11,934 alternate minimisations, 3,318 s
wall, 1,726 s loop CPU time; compare the CPU times across invocations.

Usage::

    .venv/bin/python benchmarks/fracture_solvers.py                  # sent and shear-coarse, 1 and 2 ranks
    .venv/bin/python benchmarks/fracture_solvers.py --cases sent --ranks 1
    .venv/bin/python benchmarks/fracture_solvers.py --cases sent --ranks 1 --repeat 3 \\
        --solvers altmin-base,altmin,anderson-base,anderson
    .venv/bin/python benchmarks/fracture_solvers.py --full-shear --ranks 1 --cases none \\
        --solvers altmin-base,anderson-base,anderson
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["CASES", "main", "run_one"]

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

#: Case name -> (preset, overrides).
CASES: dict[str, tuple[str, dict[str, object]]] = {
    "sent": ("sent", {}),
    "shear-coarse": ("shear", {"ell": 0.03, "h_fine": 0.015, "h_coarse": 0.05, "dload_min": 5e-5}),
    "shear-full": ("shear", {"load_max": 0.02}),
}
#: Alternate minimisation on the full shear preset to the bottom edge, 1 rank (docs/fracture.md).
SHEAR_FULL_ALTMIN = {"steps": 132, "nonlinear": 11934, "wall": 3318.2, "cpu": 1725.7}
#: The commit whose code the ``*-base`` labels run: the state before the per-iteration changes of this
#: benchmark's latest round (MUMPS LU of the displacement, the damage Jacobian at every Newton iteration, no
#: reused displacement Jacobian, increments grown after easy steps). Its ``altmin`` is the reference of the
#: goals: the alternate minimisation the stored full-shear run (SHEAR_FULL_ALTMIN) measured.
BASE_COMMIT = "d1b65ac"
#: Solver label -> the parameters it sets (and ``_commit``: run that commit's code instead of this tree's).
#: ``anderson`` is the default; ``anderson-r1`` is it without the reused displacement Jacobian.
SOLVERS: dict[str, dict[str, object]] = {
    "altmin": {"solver": "altmin"},
    "hybrid": {"solver": "hybrid"},
    "anderson": {"solver": "anderson"},
    "anderson-r1": {"solver": "anderson", "u_reuse": 1},
    "altmin-base": {"solver": "altmin", "_commit": BASE_COMMIT},
    "anderson-base": {"solver": "anderson", "_commit": BASE_COMMIT},
}


def run_one(case: str, solver: str, ranks: int, timeout: float) -> dict:
    """Run one case with one solver on ``ranks`` ranks; what it measured (``status`` says if it failed)."""
    preset, sets = CASES[case]
    out = Path(tempfile.mkdtemp(prefix=f"gpfem-solvers-{case}-{solver}-{ranks}-"))
    cmd = [str(BIN / "gpfem"), "run", "fracture", "--preset", preset, "--out", str(out), "--quiet",
           "--set", "output_format=none", "--set", "png=false", "--set", "checkpoint_interval=0"]
    commit = SOLVERS[solver].get("_commit")
    for k, v in {**sets, **SOLVERS[solver]}.items():
        if k.startswith("_"):
            continue
        cmd += ["--set", f"{k}={v}"]
    if ranks > 1:
        cmd = [str(BIN / "mpiexec"), "-n", str(ranks), *cmd]
    code = ROOT if commit is None else _tree_of(str(commit))
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(code))
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout)
        status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr.strip()[-200:]}"
    except subprocess.TimeoutExpired:
        status = f"timeout {timeout:g} s"
    wall = time.perf_counter() - t0
    row: dict = {"case": case, "solver": solver, "ranks": ranks, "wall": wall, "status": status}
    summary = out / "summary.json"
    if not summary.exists():
        return row
    r = json.loads(summary.read_text()).get("results", {})
    tip = (float("nan"), float("nan"))
    hist = out / "history.csv"
    if hist.exists():
        lines = hist.read_text().splitlines()
        head = lines[0].split(",")
        last = dict(zip(head, lines[-1].split(","), strict=False))
        tip = (float(last.get("crack_tip_x") or "nan"), float(last.get("crack_tip_y") or "nan"))
    row.update(steps=r.get("steps", 0), altmin=r.get("alt_min_iterations_total", 0),
               newton=r.get("newton_iterations_total", 0), linear=r.get("linear_solves", 0),
               cpu=r.get("loop_cpu_time_s", float("nan")), loop=r.get("loop_wall_time_s", float("nan")),
               rss=max(r.get("peak_rss_mb_per_rank", [0.0])),
               peak=r.get("peak_force", float("nan")), u_peak=r.get("load_at_peak", float("nan")),
               tip=tip, dofs=r.get("dofs_u", 0) + r.get("dofs_alpha", 0))
    return row


def _tree_of(commit: str) -> Path:
    """The package source of ``commit`` (``git archive`` into a temporary folder, once per invocation)."""
    tree = Path(tempfile.gettempdir()) / f"gpfem-bench-{commit}"
    if not (tree / "gpfem" / "__init__.py").exists():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "gpfem"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def _fmt(r: dict) -> str:
    if "steps" not in r:
        return f"{r['case']:13s} {r['solver']:11s} {r['ranks']:5d}   {r['status']}"
    tip = r["tip"]
    return (f"{r['case']:13s} {r['solver']:11s} {r['ranks']:5d} {r['dofs']:7d} {r['steps']:5d} "
            f"{r['altmin']:7d} {r['newton']:6d} {r['altmin'] + r['newton']:7d} {r['linear']:7d} "
            f"{r['wall']:8.1f} {r['loop']:9.1f} {r['cpu']:8.1f} "
            f"{r['rss']:7.0f} {r['peak']:8.4f} {r['u_peak']:9.6f}  ({tip[0]:.3f}, {tip[1]:.3f})"
            + ("" if r["status"] == "ok" else f"  {r['status']}"))


def _median_row(runs: list[dict]) -> dict:
    """One row of repeated runs: the first run's counts, the median wall and CPU time (and their spread)."""
    ok = [r for r in runs if "steps" in r]
    if not ok:
        return runs[-1]
    row = dict(ok[0])
    for key in ("wall", "loop", "cpu"):
        vals = sorted(r[key] for r in ok)
        row[key] = statistics.median(vals)
        row[f"{key}_range"] = (vals[0], vals[-1])
    row["repeats"] = len(ok)
    return row


HEADER = ("case          solver      ranks    DOFs steps  altmin newton nonlin.  linear   wall s loop wall "
          "loop cpu  RSS MB  peak kN    u@peak  crack end (x, y)")


def _ratios(rows: list[dict], case: str, n: int, ref: str, solvers: list[str]) -> None:
    """One line per solver: its times, iterations, peak and crack end against the ``ref`` row."""
    old = next((r for r in rows if (r["case"], r["solver"], r["ranks"]) == (case, ref, n)), {})
    for solver in solvers:
        new = next((r for r in rows if (r["case"], r["solver"], r["ranks"]) == (case, solver, n)), {})
        if "steps" not in old or "steps" not in new:
            continue
        dpeak = 100.0 * (new["peak"] - old["peak"]) / abs(old["peak"])
        its = (old["altmin"] + old["newton"], new["altmin"] + new["newton"])
        print(f"{case}, {n} rank(s): {ref}/{solver}: wall {old['wall'] / new['wall']:.2f}, loop wall "
              f"{old['loop'] / new['loop']:.2f}, loop cpu "
              f"{old['cpu'] / new['cpu']:.2f}, nonlinear its {its[0]} -> {its[1]}, linear solves "
              f"{old['linear']} -> {new['linear']} "
              f"({old['linear'] / max(new['linear'], 1):.2f}x), peak {new['peak']:.4f} vs "
              f"{old['peak']:.4f} kN ({dpeak:+.3f}%), crack end ({new['tip'][0]:.3f}, "
              f"{new['tip'][1]:.3f}) vs ({old['tip'][0]:.3f}, {old['tip'][1]:.3f})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="sent,shear-coarse",
                    help="comma-separated: sent, shear-coarse (or none)")
    ap.add_argument("--ranks", default="1,2", help="comma-separated rank counts")
    ap.add_argument("--full-shear", action="store_true",
                    help="also the full shear preset to u = 0.02 (new default only; the old scheme: "
                         "stored counts)")
    ap.add_argument("--solvers", default="altmin-base,altmin,hybrid,anderson",
                    help=f"comma-separated labels: {', '.join(SOLVERS)}")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of each set-up, interleaved; the table shows the median wall and CPU times")
    ap.add_argument("--timeout", type=float, default=7200.0, help="seconds per run")
    a = ap.parse_args(argv)
    cases = [c for c in a.cases.split(",") if c and c != "none"]
    ranks = [int(n) for n in a.ranks.split(",")]
    solvers = [x for x in a.solvers.split(",") if x]
    unknown = [x for x in solvers if x not in SOLVERS]
    if unknown:
        ap.error(f"--solvers: unknown {', '.join(unknown)} (known: {', '.join(SOLVERS)})")
    plan = [(case, n, solver) for case in cases for n in ranks for solver in solvers]
    # the full shear: the new solvers first (minutes, not hours)
    plan += [("shear-full", n, solver) for n in ranks for solver in reversed(solvers)] if a.full_shear else []
    runs: dict[tuple[str, int, str], list[dict]] = {k: [] for k in plan}
    print(HEADER, flush=True)
    for rep in range(a.repeat):  # interleaved, so a slow spell of the machine hits every set-up alike
        for case, n, solver in plan:
            runs[(case, n, solver)].append(run_one(case, solver, n, a.timeout))
            if a.repeat > 1:
                print(f"  (run {rep + 1}/{a.repeat}) " + _fmt(runs[(case, n, solver)][-1]), flush=True)
            else:
                print(_fmt(runs[(case, n, solver)][-1]), flush=True)
    rows = [_median_row(runs[k]) for k in plan]
    if a.repeat > 1:
        print(f"\nmedians of {a.repeat} runs (wall, loop wall and loop CPU time):")
        for r in rows:
            spread = (f"  [wall {r['wall_range'][0]:.1f}-{r['wall_range'][1]:.1f}, cpu "
                      f"{r['cpu_range'][0]:.1f}-{r['cpu_range'][1]:.1f}]") if "wall_range" in r else ""
            print(_fmt(r) + spread)
    print()
    for case in cases + (["shear-full"] if a.full_shear else []):
        for n in ranks:
            for ref in ("altmin", "altmin-base"):
                _ratios(rows, case, n, ref, [x for x in solvers if not x.startswith("altmin")])
    have_altmin = any(r["case"] == "shear-full" and r["solver"].startswith("altmin") and "steps" in r
                      for r in rows)
    for r in rows:
        if have_altmin or r["case"] != "shear-full" or r["solver"].startswith("altmin") or "steps" not in r:
            continue
        o = SHEAR_FULL_ALTMIN
        print(f"shear-full, {r['ranks']} rank(s): altmin (stored) {o['steps']} steps, {o['nonlinear']} "
              f"alternate minimisations, {o['wall']:.0f} s wall, {o['cpu']:.0f} s loop cpu; "
              f"{r['solver']} {r['steps']} steps, {r['altmin'] + r['newton']} iterations, "
              f"{r['wall']:.0f} s, {r['cpu']:.0f} s: loop cpu ratio {o['cpu'] / r['cpu']:.2f} "
              "(another invocation)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
