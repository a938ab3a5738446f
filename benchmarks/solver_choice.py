"""Direct (MUMPS LU) against iterative (Krylov + GAMG / ILU) linear solves, per model, at growing sizes.

Every case runs the real command line with the model's defaults except the linear solver, given as PETSc
options on each of the model's prefixes; the table prints wall time (whole command) for each choice, and
the crossover: the smallest size from which the iterative choice stays faster (or "none up to N DOFs").
dt is fixed (dt_min = dt), so a linear solver that breaks Newton fails the run at once, not after cuts.

    .venv/bin/python benchmarks/solver_choice.py --quick           # two sizes per model, ~1 minute
    .venv/bin/python benchmarks/solver_choice.py                   # three sizes per model
    .venv/bin/python benchmarks/solver_choice.py --ranks 2 --models cahn-hilliard
    .venv/bin/python benchmarks/solver_choice.py --hard --models cahn-hilliard fracture   # hard regimes
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import Case, Row, machine, run_case  # noqa: E402

__all__ = ["ITERATIVE", "DIRECT", "crossover", "main", "sized"]

DIRECT = {"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"}
#: Per model, the iterative choices tried (options without the prefix; applied to every prefix).
ITERATIVE = {
    "cahn-hilliard": {
        "gmres+gamg": {"ksp_type": "gmres", "pc_type": "gamg", "ksp_rtol": 1e-8, "ksp_max_it": 500},
        "gmres+ilu": {"ksp_type": "gmres", "pc_type": "bjacobi", "sub_pc_type": "ilu", "ksp_rtol": 1e-8,
                      "ksp_max_it": 500},
    },
    "fracture": {
        "cg+gamg": {"ksp_type": "cg", "pc_type": "gamg", "ksp_rtol": 1e-8, "ksp_max_it": 500},
    },
    "martensite": {
        "gmres+gamg": {"ksp_type": "gmres", "pc_type": "gamg", "ksp_rtol": 1e-8, "ksp_max_it": 500},
        "gmres+ilu": {"ksp_type": "gmres", "pc_type": "bjacobi", "sub_pc_type": "ilu", "ksp_rtol": 1e-8,
                      "ksp_max_it": 500},
    },
}


def sized(model: str, level: int, hard: bool = False) -> Case:
    """The model's case at size level 0, 1, 2, ... (each level doubles the resolution).

    ``hard``: the regimes that matter in production runs: Cahn-Hilliard at a larger fixed step (dt = 2,
    the ci preset's dt_max; dt = 20 from the initial state fails with every solver, Newton included) and
    fracture through the crack (to the preset's final load).
    """
    if model == "cahn-hilliard":
        n, dt = 64 * 2**level, (2.0 if hard else 0.5)
        return Case(f"cahn-hilliard {n}^2 dt={dt:g}", model, "ci",
                    {"nx": n, "ny": n, "Lx": n, "Ly": n, "dt": dt, "dt_max": dt, "dt_min": dt,
                     "t_end": 4 * dt})
    if model == "fracture":
        h = 0.015 / 2**level
        return Case(f"fracture SENT h={h:g}" + (" cracked" if hard else ""), model, "sent-ci",
                    {"h_fine": h} if hard else {"h_fine": h, "load_max": 0.002})
    n = 64 * 2**level
    return Case(f"martensite {n}^2", model, "ci", {"nx": n, "ny": n, "Lx": n / 2, "Ly": n / 2, "dt": 0.25,
                                                   "dt_max": 0.25, "dt_min": 0.25, "t_end": 1.0})


def crossover(sizes: list[int], direct: list[float], other: list[float]) -> int | None:
    """Smallest size from which ``other`` is faster than ``direct`` at every larger size."""
    best = None
    for n, d, o in reversed(list(zip(sizes, direct, other, strict=True))):
        if o < d:
            best = n
        else:
            break
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two sizes per model")
    ap.add_argument("--levels", type=int, default=3, help="sizes per model (each doubles resolution)")
    ap.add_argument("--ranks", type=int, default=1)
    ap.add_argument("--hard", action="store_true", help="large CH steps; fracture through the crack")
    ap.add_argument("--first-level", type=int, default=0)
    ap.add_argument("--models", nargs="+", default=list(ITERATIVE))
    ap.add_argument("--timeout", type=float, default=120, help="seconds per run (a slower run fails)")
    a = ap.parse_args(argv)
    levels = 2 if a.quick else a.levels
    print(f"machine: {machine()}; {a.ranks} rank(s)", flush=True)
    for model in a.models:
        choices = {"mumps": DIRECT, **ITERATIVE[model]}
        table: dict[str, list[Row]] = {k: [] for k in choices}
        for lev in range(a.first_level, a.first_level + levels):
            case = sized(model, lev, a.hard)
            for name, opts in choices.items():
                case.petsc = {k: str(v) for k, v in opts.items()}
                r = run_case(case, a.ranks, timeout=a.timeout)
                table[name].append(r)
                print(f"  {case.name:26s} {name:11s} {r.dofs:8d} DOFs  {r.wall:7.2f} s  Newton {r.newton:4d}"
                      f"  KSP {r.ksp:6d}  {r.status}", flush=True)
        sizes = [r.dofs for r in table["mumps"]]
        print(f"\n{model}: wall s (whole command), {a.ranks} rank(s)")
        print("| DOFs | " + " | ".join(choices) + " |")
        print("|---|" + "---|" * len(choices))
        for i, n in enumerate(sizes):
            cells = [f"{t[i].wall:.2f}" + ("" if t[i].status == "completed" else " (failed)")
                     for t in table.values()]
            print(f"| {n} | " + " | ".join(cells) + " |")
        d = [r.wall if r.status == "completed" else float("inf") for r in table["mumps"]]
        for name in ITERATIVE[model]:
            o = [r.wall if r.status == "completed" else float("inf") for r in table[name]]
            x = crossover(sizes, d, o)
            print(f"crossover {name} vs mumps: " + (f"iterative faster from {x} DOFs" if x
                                                     else f"none up to {sizes[-1]} DOFs (mumps faster)"))
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
