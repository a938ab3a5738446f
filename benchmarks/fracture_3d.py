"""The displacement solve at scale: MUMPS LU against CG + GAMG (rigid-body near-nullspace), 2D and 3D SENT.

Each case builds the fracture model of a preset (``sent`` in 2D, ``sent-3d`` extruded in z) and runs fixed
load steps in one process tree (``mpiexec -n R``), once with ``u_solver=direct`` and once with
``u_solver=gamg``, and prints per case: DOFs, setup time (mesh, forms, solvers), time per load step (median),
alternate minimisations, the displacement solve's wall and CPU time per solve and KSP iterations per
solve before and after the crack, and the peak resident memory (``getrusage``, max over ranks: the whole
process, with Python, DOLFINx and the compiled forms about 170 MB, and its growth after the imports).
Reaction forces of the two solvers are compared step by step (``|dF|/F``). ``--petsc '-key value ...'``
adds PETSc options to every run (e.g. ``-gpfem_displacement_pc_gamg_threshold 0.01``).

    .venv/bin/python benchmarks/fracture_3d.py --quick            # small 2D and 3D (h = 0.015), minutes
    .venv/bin/python benchmarks/fracture_3d.py                    # sent (2D, through the crack) + sent-3d
    .venv/bin/python benchmarks/fracture_3d.py --cases 3d --layers 84 --ranks 2   # >= 1M DOFs (cluster)

The 3D case's size: ``--layers L`` element layers of ``h_fine`` each (thickness = L h_fine), ``--h`` the
in-plane ``h_fine`` (the band), so u DOFs = 3 (L + 1) x (2D vertices). ``sent-3d`` with ``--layers 84`` and
the preset's h = 0.0075 has 1.00M u DOFs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import launch_worker  # noqa: E402

__all__ = ["main", "worker"]

ROOT = Path(__file__).resolve().parents[1]
LEGEND = """
s/step: median wall time of the load steps before the crack; s/solve, cpu/solve, KSP/solve: per
displacement solve (assembly + linear solve; cpu: CPU time of rank 0, less sensitive to other jobs), before
the crack; crack: from the step where it runs on (max damage > 0.9); RSS MB: peak resident memory, max over
ranks; +MB: its growth after the imports (mesh, model, solvers); |dF|/F: largest difference of the
reaction force from the first solver's, over its peak."""


def _params(case: str, solver: str, layers: int, h: float | None, loads: list[float]) -> dict:
    from gpfem.app.parameters import resolve
    from gpfem.models.fracture_spec import PARAMETERS, PRESETS

    preset = "sent-3d" if case == "3d" else "sent"
    over: dict = {"u_solver": solver, "crack_track": False, "output_format": "none", "png": False,
                  "checkpoint_interval": 0, "load_path": loads, "max_damage_increment": 1.0}
    if h is not None:
        over["h_fine"] = h
    if case == "3d":
        hf = h if h is not None else PRESETS[preset]["h_fine"]
        over.update(layers=layers, thickness=layers * hf)
    return resolve(PARAMETERS, PRESETS[preset], over)


def worker(a: argparse.Namespace) -> None:
    """One case and solver on COMM_WORLD; rank 0 prints one ``RESULT`` JSON line."""
    import resource

    from mpi4py import MPI

    from petsc4py import PETSc

    from gpfem.models.fracture import Fracture
    from gpfem.models.fracture_run import preset_mesh

    comm = MPI.COMM_WORLD
    opts = a.petsc.split()
    for k, v in zip(opts[::2], opts[1::2], strict=True):  # "-key value" pairs
        PETSc.Options()[k.lstrip("-")] = v
    base_rss = comm.gather(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)  # after imports
    loads = [float(v) for v in a.loads.split(",")]
    p = _params(a.case, a.solver, a.layers, a.h, [loads[-1]])
    t0 = time.perf_counter()
    bundle = preset_mesh(p, comm)
    m = Fracture(bundle, p)
    setup = time.perf_counter() - t0
    su = m.solver_u
    clock = {"t": 0.0, "cpu": 0.0}
    inner = su.solve

    def timed():  # wall and CPU time inside the displacement solves (assembly + linear solve)
        t, c = time.perf_counter(), time.process_time()
        try:
            return inner()
        finally:
            clock["t"] += time.perf_counter() - t
            clock["cpu"] += time.process_time() - c

    su.solve = timed
    steps = []
    s = 0.0
    try:
        for load in loads:
            ds = load - s
            n0, k0 = su.counts["solves"], su.counts["ksp_iterations"]
            t0u, c0u = clock["t"], clock["cpu"]
            comm.barrier()
            t = time.perf_counter()
            res = m.try_step(s, ds)
            if not res.ok:
                raise RuntimeError(f"step to {load} failed: {res.reason}")
            m.accept(s + ds, ds, res)
            comm.barrier()
            steps.append({"load": load, "wall": time.perf_counter() - t, "altmin": res.iterations,
                          "u_solves": su.counts["solves"] - n0, "u_ksp": su.counts["ksp_iterations"] - k0,
                          "u_time": clock["t"] - t0u, "u_cpu": clock["cpu"] - c0u,
                          "force": m.values["reaction_force"],
                          "max_damage": m.values["max_damage"]})
            s = load
        ksp = su.snes.getKSP()
        used = f"{ksp.getType()}+{ksp.getPC().getType()}" + (" (fell back)" if su.fell_back else "")
    finally:
        m.close()
    rss = comm.gather(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
    if comm.rank == 0:
        ndofs = m.V.dofmap.index_map.size_global * m.V.dofmap.index_map_bs
        print("RESULT " + json.dumps({"case": a.case, "solver": a.solver, "used": used, "ranks": comm.size,
                                      "dofs_u": ndofs, "setup": setup, "steps": steps, "rss": rss,
                                      "base_rss": base_rss,
                                      "mesh": bundle.source}), flush=True)


def _launch(case: str, solver: str, ranks: int, layers: int, h: float | None, loads: list[float],
            timeout: float, petsc: str = "") -> dict:
    args = ["--case", case, "--solver", solver, "--layers", str(layers),
            "--loads", ",".join(repr(v) for v in loads), f"--petsc={petsc}"]
    if h is not None:
        args += ["--h", repr(h)]
    return launch_worker(__file__, args, ranks, timeout)


def _median(v: list[float]) -> float:
    v = sorted(v)
    n = len(v)
    return float("nan") if n == 0 else (v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2]))


def _summary(r: dict) -> dict:
    """Per-solve figures before the crack (max damage < 0.9 after the step) and from the crack step on."""
    st = r["steps"]
    broken = [k for k, s in enumerate(st) if s["max_damage"] > 0.9]
    first = broken[0] if broken else len(st)
    out = {"wall_step": _median([s["wall"] for s in st[:first]]), "altmin": sum(s["altmin"] for s in st)}
    for name, part in (("pre", st[:first]), ("crack", st[first:])):
        n = sum(s["u_solves"] for s in part)
        out[f"{name}_ksp"] = sum(s["u_ksp"] for s in part) / n if n else float("nan")
        out[f"{name}_t"] = sum(s["u_time"] for s in part) / n if n else float("nan")
        out[f"{name}_cpu"] = sum(s["u_cpu"] for s in part) / n if n else float("nan")
        out[f"{name}_n"] = n
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the table (or run one worker with ``--worker``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=["2d", "3d"], choices=["2d", "3d"])
    ap.add_argument("--solvers", nargs="+", default=["direct", "gamg"], choices=["direct", "gamg"])
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--layers", type=int, default=4, help="3D: element layers (thickness = layers h)")
    ap.add_argument("--h", type=float, default=None, help="h_fine of both cases (default: the preset's)")
    ap.add_argument("--loads-2d", default="0.001,0.002,0.003,0.004,0.005,0.0055,0.006,0.0065",
                    help="2D load steps (the crack runs in the step to 0.006)")
    ap.add_argument("--loads-3d", default="0.001,0.002,0.003", help="3D load steps (before the peak)")
    ap.add_argument("--quick", action="store_true", help="coarse: h = 0.015, 2 layers")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--petsc", default="", help="PETSc options for every run, '-key value ...' (e.g. "
                    "'-gpfem_displacement_pc_gamg_threshold 0.01')")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--case", default="2d", help=argparse.SUPPRESS)
    ap.add_argument("--solver", default="direct", help=argparse.SUPPRESS)
    ap.add_argument("--loads", default="", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        worker(a)
        return 0
    if a.quick:
        a.h, a.layers = a.h or 0.015, 2
    rows = []
    print(f"{'case':4s} {'solver':7s} {'used':10s} {'ranks':>5s} {'u DOFs':>9s} {'setup s':>8s} "
          f"{'s/step':>7s} {'altmin':>6s} {'u solves':>8s} {'s/solve':>8s} {'cpu/solve':>9s} "
          f"{'KSP/solve':>9s} {'crack: s/solve':>14s} {'KSP/solve':>9s} {'RSS MB':>7s} {'+MB':>6s} "
          f"{'|dF|/F':>8s}", flush=True)
    for case in a.cases:
        loads = [float(v) for v in (a.loads_2d if case == "2d" else a.loads_3d).split(",")]
        ref = None
        for solver in a.solvers:
            r = _launch(case, solver, a.ranks, a.layers, a.h, loads, a.timeout, a.petsc)
            s = _summary(r)
            f = [x["force"] for x in r["steps"]]
            if ref is None:
                ref, df = f, 0.0
            else:
                peak = max(abs(v) for v in ref)
                df = max(abs(x - y) for x, y in zip(f, ref, strict=True)) / peak
            rows.append(r)
            grow = max(x - y for x, y in zip(r["rss"], r["base_rss"], strict=True))
            print(f"{case:4s} {solver:7s} {r['used'][:10]:10s} {r['ranks']:5d} {r['dofs_u']:9d} "
                  f"{r['setup']:8.1f} {s['wall_step']:7.2f} {s['altmin']:6d} {s['pre_n'] + s['crack_n']:8d} "
                  f"{s['pre_t']:8.3f} {s['pre_cpu']:9.3f} {s['pre_ksp']:9.1f} {s['crack_t']:14.3f} "
                  f"{s['crack_ksp']:9.1f} {max(r['rss']):7.0f} {grow:6.0f} {df:8.1e}", flush=True)
    print(LEGEND)
    for r in rows:
        per = ", ".join(f"({x['load']:g}, {x['wall']:.2f}, {x['altmin']}, "
                        f"{x['u_ksp'] / max(x['u_solves'], 1):.1f})" for x in r["steps"])
        print(f"{r['case']} {r['solver']}: {r['mesh']}; per step (load, wall s, altmin, KSP/solve): {per}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
