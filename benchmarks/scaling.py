"""Strong and weak scaling with per-phase times: Cahn-Hilliard in 2D, martensite in 3D; one table.

Each row is one ``mpiexec -n R`` run of a worker (this file with ``--worker``) that builds the model,
takes one untimed warm-up step and then ``--steps`` fixed-dt steps inside a PETSc log stage. The phases
are PETSc's own events inside that stage (the maximum over ranks): ``assembly`` = SNESFunctionEval +
SNESJacobianEval (residual and Jacobian), ``PC setup`` = PCSetUp + PCSetUpOnBlocks (factorisations),
``Krylov`` = KSPSolve, ``other`` = the rest of the steps (line search vector work, energy measures,
Python); ``output`` is a second stage that writes the fields once (VTX, ADIOS2) and a checkpoint.
``setup`` (mesh by gmsh on rank 0 and its distribution, forms, initial state) is reported apart; the form
compiler runs before the table (one tiny run per problem fills the JIT cache), so no row pays for JIT.

Problems: ``ch2d``, Cahn-Hilliard with PFHub 1 physics on an n x n square (h = 1), P1^2 (c, mu), the
model's default solver (GMRES + ASM/ILU(1)), dt = 1; ``gl3d``, the cubic-to-tetragonal martensite
preset in an n^3 box (3 variants + displacement, 6 DOFs per vertex), dt = 0.1, with GMRES + ASM/ILU(0)
given on the command line (the model's MUMPS default took 3 s per factorisation at 29,478 DOFs on this
machine: at a million DOFs in 3D it does not fit).

Strong scaling: the size fixed, ranks 1..N; speed-up = steps time on the fewest ranks / steps time.
Weak scaling: DOFs per rank fixed (n = n1 R^(1/d)); efficiency = steps time on the fewest ranks / steps
time (1.0 is perfect).

    .venv/bin/python benchmarks/scaling.py --quick                   # test sizes, 1 and 2 ranks (~1 min)
    .venv/bin/python benchmarks/scaling.py --ranks 1 2               # medium sizes, a few minutes here
    .venv/bin/python benchmarks/scaling.py --full --ranks 1 2 4 8 16 # >= 1M DOFs (2D and 3D): a big host
    .venv/bin/python benchmarks/scaling.py --mode weak --problems ch2d --n1 24 --ranks 1 2  # Slurm job
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

__all__ = ["COLUMNS", "PROBLEMS", "SIZES", "Row", "dofs_of", "format_table", "main", "rows_for"]

#: problem -> (label, space dimension, DOFs per vertex)
PROBLEMS: dict[str, tuple[str, int, int]] = {
    "ch2d": ("cahn-hilliard 2D", 2, 2),
    "gl3d": ("martensite 3D", 3, 6),
}

#: size -> problem -> (n of the strong-scaling runs, n1 = n on one rank of the weak-scaling runs)
SIZES: dict[str, dict[str, tuple[int, int]]] = {
    "quick": {"ch2d": (32, 32), "gl3d": (4, 4)},
    "medium": {"ch2d": (400, 200), "gl3d": (30, 18)},
    "full": {"ch2d": (708, 177), "gl3d": (55, 22)},
}

#: PETSc options of the martensite runs (prefix gpfem_gl_): MUMPS does not fit at 1M DOFs in 3D.
GL_OPTIONS = {"ksp_type": "gmres", "pc_type": "asm", "pc_asm_overlap": 1, "sub_pc_type": "ilu",
              "ksp_rtol": 1e-8, "ksp_max_it": 1000}

COLUMNS = ["problem", "mode", "ranks", "DOFs", "DOFs/rank", "steps", "Newton", "KSP", "setup s",
           "assembly s", "PC setup s", "Krylov s", "other s", "steps s", "steps CPU s", "output s",
           "s/Newton", "speed-up", "efficiency", "status"]


def dofs_of(problem: str, n: int) -> int:
    """Global DOFs of ``problem`` on an n^d grid of vertices (n + 1)^d."""
    _, d, per = PROBLEMS[problem]
    return per * (n + 1) ** d


@dataclass
class Row:
    """One run: what it measured (times in seconds, the maximum over ranks)."""

    problem: str
    mode: str
    ranks: int
    n: int
    dofs: int = 0
    steps: int = 0
    newton: int = 0
    ksp: int = 0
    setup: float = float("nan")
    assembly: float = float("nan")
    pc_setup: float = float("nan")
    krylov: float = float("nan")
    other: float = float("nan")
    steps_time: float = float("nan")
    steps_cpu: float = float("nan")
    output: float = float("nan")
    speedup: float = float("nan")
    efficiency: float = float("nan")
    status: str = "not run"

    def cells(self) -> list[str]:
        """The row's table cells, in :data:`COLUMNS` order."""
        f = lambda x, d=2: "-" if not math.isfinite(x) else f"{x:.{d}f}"  # noqa: E731
        return [PROBLEMS[self.problem][0], self.mode, str(self.ranks), str(self.dofs),
                str(self.dofs // max(self.ranks, 1)), str(self.steps), str(self.newton), str(self.ksp),
                f(self.setup), f(self.assembly), f(self.pc_setup), f(self.krylov), f(self.other),
                f(self.steps_time), f(self.steps_cpu), f(self.output),
                f(self.steps_time / max(self.newton, 1), 4),
                f(self.speedup), f(self.efficiency), self.status]


def format_table(rows: list[Row]) -> str:
    """One Markdown table, :data:`COLUMNS` in order."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in rows]
    return "\n".join(lines)


# -- the worker: one run under mpiexec ----------------------------------------------------------------
def _build(problem: str, n: int, comm):  # noqa: ANN001, ANN202
    from gpfem.app.parameters import resolve
    from gpfem.mesh import box, rectangle

    if problem == "ch2d":
        from gpfem.models.cahn_hilliard import CahnHilliard
        from gpfem.models.cahn_hilliard_spec import PARAMETERS

        p = resolve(PARAMETERS, {"Lx": float(n), "Ly": float(n), "nx": n, "ny": n, "energy_check": False})
        return CahnHilliard(rectangle(float(n), float(n), n, n, comm=comm), p), 1.0
    from petsc4py import PETSc

    from gpfem.models.martensite import Martensite
    from gpfem.models.martensite_spec import PARAMETERS, PRESETS

    db = PETSc.Options()
    for k, v in GL_OPTIONS.items():
        if not db.hasName(f"gpfem_gl_{k}"):
            db.setValue(f"gpfem_gl_{k}", v)
    L = n * 10.0 / 12.0  # the preset's h = 10/12
    p = resolve(PARAMETERS, {**PRESETS["cubic-tetragonal-3d"], "Lx": L, "Ly": L, "Lz": L, "nx": n, "ny": n,
                             "nz": n, "energy_check": False})
    return Martensite(box(L, L, L, n, n, n, comm=comm), p, (n, n, n, L, L, L)), 0.1


def worker(problem: str, n: int, steps: int, out: str) -> dict:
    """Build, warm up, time ``steps`` steps and one output; return the measurements (every rank)."""
    import dolfinx_solver  # noqa: F401
    from mpi4py import MPI

    from petsc4py import PETSc

    from gpfem.drivers.stepping import AdaptiveStepper, StepControl
    from gpfem.io.checkpoint import save_checkpoint
    from gpfem.io.fields import FieldWriter

    comm = MPI.COMM_WORLD
    PETSc.Log.begin()
    comm.barrier()
    t0 = MPI.Wtime()
    model, dt = _build(problem, n, comm)
    comm.barrier()
    setup = MPI.Wtime() - t0
    space = model.state.function_space
    dofs = space.dofmap.index_map.size_global * space.dofmap.index_map_bs
    stepper = AdaptiveStepper(model, StepControl(dt=dt, dt_min=dt, dt_max=dt, grow=1.0))
    t, _, _ = stepper.step(0.0)  # warm-up: first-call costs (symbolic set-up, allocations)
    snes = model.solver.snes
    stage = PETSc.Log.Stage("gpfem steps")
    newton = ksp = 0
    comm.barrier()
    stage.push()
    t1, c1 = MPI.Wtime(), time.process_time()
    for _ in range(steps):
        t, _, res = stepper.step(t)
        newton += res.iterations
        ksp += snes.getLinearSolveIterations()
    comm.barrier()
    steps_time, steps_cpu = MPI.Wtime() - t1, time.process_time() - c1
    stage.pop()

    def ev(name: str) -> float:
        return PETSc.Log.Event(name).getPerfInfo(stage.id)["time"]

    local = {"assembly": ev("SNESFunctionEval") + ev("SNESJacobianEval"),
             "pc_setup": ev("PCSetUp") + ev("PCSetUpOnBlocks"), "krylov": ev("KSPSolve")}
    steps_cpu = comm.allreduce(steps_cpu, op=MPI.MAX)
    out_stage = PETSc.Log.Stage("gpfem output")
    comm.barrier()
    out_stage.push()
    t2 = MPI.Wtime()
    model.update_outputs()
    w = FieldWriter(out, model.output_functions(), fmt="vtx")
    w.write(t)
    w.close()
    save_checkpoint(Path(out) / "checkpoint.npz", model.checkpoint_fields(), {"time": t, "step": steps + 1})
    comm.barrier()
    output = MPI.Wtime() - t2
    out_stage.pop()
    model.close()
    res = {k: comm.allreduce(v, op=MPI.MAX) for k, v in local.items()}
    res.update(dofs=dofs, steps=steps, newton=newton, ksp=ksp, setup=setup, steps_time=steps_time,
               steps_cpu=steps_cpu, output=output, other=steps_time - sum(res.values()))
    return res


# -- the driver ---------------------------------------------------------------------------------------
def run_row(row: Row, steps: int, timeout: float, petsc: list[str]) -> Row:
    """Run ``row`` as a worker under mpiexec and fill in its measurements."""
    import tempfile

    out = tempfile.mkdtemp(prefix=f"gpfem-scaling-{row.problem}-")
    cmd = [str(BIN / "python"), str(Path(__file__).resolve()), "--worker", row.problem, "--n", str(row.n),
           "--steps", str(steps), "--out", out, *petsc]
    if row.ranks > 1:
        cmd = [str(BIN / "mpiexec"), "-n", str(row.ranks), *cmd]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout)
    except subprocess.TimeoutExpired:
        row.status = f"timeout {timeout:g} s"
        return row
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if p.returncode != 0 or line is None:
        tail = (p.stderr or p.stdout).strip().splitlines()[-1:] or [""]
        row.status = f"exit {p.returncode}: {tail[0][:80]}"
        return row
    d = json.loads(line[7:])
    for k in ("dofs", "steps", "newton", "ksp"):
        setattr(row, k, int(d[k]))
    for k in ("setup", "assembly", "pc_setup", "krylov", "other", "steps_time", "steps_cpu", "output"):
        setattr(row, k, float(d[k]))
    row.status = "completed"
    return row


def rows_for(problems: list[str], modes: list[str], ranks: list[int], size: str,
             n: int | None = None, n1: int | None = None) -> list[Row]:
    """The runs of a call, in table order (grid sizes from :data:`SIZES`, or ``n``/``n1``)."""
    rows = []
    for prob in problems:
        d = PROBLEMS[prob][1]
        n_strong, n_weak = SIZES[size][prob]
        n_strong, n_weak = n or n_strong, n1 or n_weak
        for mode in modes:
            for r in ranks:
                m = n_strong if mode == "strong" else max(1, round(n_weak * r ** (1.0 / d)))
                rows.append(Row(prob, mode, r, m))
    return rows


def _positive(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def _machine() -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _bench import machine

    return machine()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="test sizes (seconds)")
    size.add_argument("--full", action="store_true", help=">= 1M DOFs per problem (a host with many cores)")
    ap.add_argument("--ranks", type=_positive, nargs="+", default=[1, 2])
    ap.add_argument("--mode", nargs="+", default=["strong", "weak"], choices=["strong", "weak"])
    ap.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    ap.add_argument("--n", type=_positive, help="elements per side of the strong runs (overrides the size)")
    ap.add_argument("--n1", type=_positive, help="elements per side on one rank of the weak-scaling runs")
    ap.add_argument("--steps", type=_positive, default=3, help="timed steps after one warm-up step")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per run")
    ap.add_argument("--json", help="also write the rows to this JSON file")
    ap.add_argument("--worker", choices=list(PROBLEMS), help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a, petsc = ap.parse_known_args(argv)  # the rest: PETSc options, e.g. -gpfem_ch_ksp_type gmres
    if a.worker:
        import dolfinx_solver  # noqa: F401
        from mpi4py import MPI

        import petsc4py

        petsc4py.init([sys.argv[0], "-no_signal_handler", *petsc])

        res = worker(a.worker, a.n, a.steps, a.out)
        if MPI.COMM_WORLD.rank == 0:
            print("RESULT " + json.dumps(res), flush=True)
        return 0
    if bad := [x for x in petsc if x.startswith("--")]:
        ap.error(f"unrecognized arguments: {' '.join(bad)} (PETSc options take one dash)")
    size = "quick" if a.quick else "full" if a.full else "medium"
    print(f"machine: {_machine()}", flush=True)
    t_all = time.perf_counter()
    for prob in a.problems:  # fill the JIT cache: no row below pays for the form compiler
        run_row(Row(prob, "jit", 1, SIZES["quick"][prob][0]), 1, a.timeout, petsc)
    rows = rows_for(a.problems, a.mode, sorted(a.ranks), size, a.n, a.n1)
    for row in rows:
        run_row(row, a.steps, a.timeout, petsc)
        print(f"  {PROBLEMS[row.problem][0]} {row.mode} {row.ranks} rank(s): {row.dofs} DOFs, "
              f"steps {row.steps_time:.2f} s, {row.status}", flush=True)
    for prob in a.problems:
        for mode in a.mode:
            group = [r for r in rows if r.problem == prob and r.mode == mode and r.status == "completed"]
            if not group:
                continue
            ref = group[0]
            for r in group:
                ratio = ref.steps_time / r.steps_time
                r.speedup = ratio if mode == "strong" else float("nan")
                r.efficiency = ratio * ref.ranks / r.ranks if mode == "strong" else ratio
    print(format_table(rows))
    print(f"{a.steps} timed steps after one warm-up step; times in s, the maximum over ranks; setup = mesh "
          "(gmsh, rank 0) + distribution + forms (JIT cache warm) + initial state; assembly = residual + "
          "Jacobian; PC setup = PCSetUp + PCSetUpOnBlocks; Krylov = KSPSolve; other = the rest of the "
          "steps; steps CPU = the largest CPU time of one rank over the steps (it leaves out the time a rank "
          "waited for a core on a loaded machine); output = one VTX write + "
          "one checkpoint; speed-up and efficiency from the steps' wall time. Total wall "
          f"{time.perf_counter() - t_all:.0f} s.")
    if a.json:
        Path(a.json).write_text(json.dumps([asdict(r) for r in rows], indent=1))
    return 0 if all(r.status == "completed" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
