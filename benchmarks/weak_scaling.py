"""Weak scaling for clusters: DOFs per rank fixed, ranks growing; one table (efficiency = t(1) / t(R)).

Cahn-Hilliard on an n x n square with n = n1 sqrt(R) (h = 1 fixed, so the physics per rank is the same),
a fixed number of fixed-dt steps. Run it inside a Slurm allocation (containers/slurm/weak-scaling.sbatch)
or here on 1 and 2 ranks:

    .venv/bin/python benchmarks/weak_scaling.py --ranks 1 2 --n1 64
    .venv/bin/python benchmarks/weak_scaling.py --ranks 1 4 16 64 --n1 400 -- -gpfem_ch_ksp_type gmres \
        -gpfem_ch_pc_type bjacobi -gpfem_ch_sub_pc_type ilu
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import Case, format_table, machine, run_case  # noqa: E402

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--n1", type=int, default=64, help="elements per side on one rank")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("petsc", nargs="*", help="after --: prefixed PETSc options (-gpfem_ch_ksp_type gmres)")
    a = ap.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    petsc = {}
    it = iter(a.petsc)
    for tok in it:  # -gpfem_ch_KEY VALUE -> KEY: VALUE (run_case adds the prefix back)
        petsc[tok.lstrip("-").removeprefix("gpfem_ch_")] = next(it, "")
    rows = []
    for r in a.ranks:
        n = round(a.n1 * math.sqrt(r))
        case = Case(f"cahn-hilliard {n}^2", "cahn-hilliard", "ci",
                    {"nx": n, "ny": n, "Lx": n, "Ly": n, "dt": 0.5, "dt_max": 0.5, "dt_min": 0.5,
                     "t_end": 0.5 * a.steps}, petsc)
        row = run_case(case, r, timeout=3600)
        row.ratio = rows[0].wall / row.wall if rows else 1.0
        rows.append(row)
    print(format_table(rows))
    print("ratio = weak-scaling efficiency t(first) / t(R) (1.0 is perfect)")
    return 0 if all(r.status == "completed" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
