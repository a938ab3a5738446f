"""The benchmark suite: every model on 1 and 2 ranks (strong scaling), one table.

Each problem's 1-rank run is its reference: ``ratio vs ref`` is reference wall / this wall (the
strong-scaling speedup). Cahn-Hilliard also runs beside the DOLFINx demo's own scheme
(``cahn_hilliard_vs_dolfinx_demo.py``, called, not copied): there the reference is the demo scheme on the
same rank count.

    .venv/bin/python benchmarks/run_all.py --quick        # about a minute on 2 cores (CI sizes)
    .venv/bin/python benchmarks/run_all.py                # larger sizes
    .venv/bin/python benchmarks/run_all.py --ranks 1 2 4  # more ranks
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import BIN, ROOT, Case, Row, format_table, machine, run_case  # noqa: E402

__all__ = ["cases", "demo_rows", "main"]


def cases(quick: bool) -> list[Case]:
    """The suite's problems (small under --quick)."""
    n_ch, n_gl, h = (48, 40, 0.015) if quick else (128, 96, 0.0075)
    return [
        Case(f"cahn-hilliard {n_ch}^2", "cahn-hilliard", "ci",
             {"nx": n_ch, "ny": n_ch, "Lx": n_ch, "Ly": n_ch, "dt": 0.5, "dt_max": 0.5, "t_end": 2.5}),
        Case("fracture SENT pre-peak", "fracture", "sent-ci", {"h_fine": h, "load_max": 0.003}),
        Case(f"martensite {n_gl}^2", "martensite", "ci",
             {"nx": n_gl, "ny": n_gl, "dt": 0.25, "dt_max": 0.25, "t_end": 2.5}),
    ]


def demo_rows(ranks: int, quick: bool) -> list[Row]:
    """gpfem beside the DOLFINx demo scheme (the other benchmark's functions, in one mpiexec)."""
    code = ("import json, sys, time, resource; sys.path.insert(0, 'benchmarks');"
            "import cahn_hilliard_vs_dolfinx_demo as b;"
            "rows = [b.run_reference(), b.run_gpfem()];"
            "c = b.comm; rss = c.allreduce(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, op=b.MPI.MAX);"
            "rows = [dict(r, setup=c.allreduce(r['setup'], op=b.MPI.MAX),"
            " solve=c.allreduce(r['solve'], op=b.MPI.MAX), rss=rss, steps=b.STEPS) for r in rows];"
            "c.rank == 0 and print('ROWS', json.dumps(rows))")
    cmd = [str(BIN / "python"), "-c", code]
    if ranks > 1:
        cmd = [str(BIN / "mpiexec"), "-n", str(ranks), *cmd]
    env = dict(os.environ, OMP_NUM_THREADS="1", CI="true" if quick else os.environ.get("CI", ""))
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900, check=True)
    data = json.loads(next(ln for ln in p.stdout.splitlines() if ln.startswith("ROWS "))[5:])
    rows = [Row(problem=f"CH demo 96^2: {d['code']}", dofs=d["dofs"], ranks=ranks, steps=d["steps"],
                newton=d["newton"], ksp=d["ksp"], wall=d["setup"] + d["solve"], peak_mb=d["rss"] / 1024,
                status="completed") for d in data]
    rows[0].ratio = 1.0
    rows[1].ratio = rows[0].wall / rows[1].wall
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="CI sizes")
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--no-demo", action="store_true", help="skip the DOLFINx demo comparison")
    ap.add_argument("--json", help="also write the rows to this JSON file")
    a = ap.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    t0 = time.perf_counter()
    rows: list[Row] = []
    for case in cases(a.quick):
        ref = None
        for r in a.ranks:
            row = run_case(case, r)
            ref = ref or row
            row.ratio = ref.wall / row.wall
            rows.append(row)
    if not a.no_demo:
        for r in a.ranks:
            rows += demo_rows(r, a.quick)
    print(format_table(rows))
    print(f"suite wall time {time.perf_counter() - t0:.1f} s; wall s = the whole command (start-up, forms, "
          "mesh, time loop); ratio = reference wall / wall (reference: the 1-rank run, or the demo scheme)")
    if a.json:
        Path(a.json).write_text(json.dumps([r.__dict__ for r in rows], indent=1))
    return 0 if all(r.status == "completed" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
