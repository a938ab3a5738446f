"""Memory of the 3D displacement solve at scale: MUMPS's own estimate and use against CG + GAMG.

For ``sent-3d`` with ``--layers L`` (u DOFs = 3 (L + 1) x the 2D vertices; ``--layers 84`` has 1.01M), each
size runs in fresh processes (``mpiexec -n R``) and prints one row per solver:

* ``mumps`` (``--factors lu,cholesky``: MUMPS LU and its ``L D L^T``, ``pc_type cholesky``, the direct
  default of the symmetric displacement problem): the displacement Jacobian (undamaged) is assembled and
  MUMPS's analysis run; its estimates
  of the in-core factorisation's memory (INFOG(16) per rank, INFOG(17) in all) and flops (RINFOG(1)) are
  read. If the estimate fits in ``--fit`` of the memory available now, the factorisation is also done and
  its real memory (INFOG(21)/(22)), its wall time and the growth of the peak RSS are printed; otherwise
  MUMPS is given 1 MB of working memory (ICNTL(23)), so it stops after the analysis (INFO(1) = -19) and
  the row says "does not fit". With ``--ooc DIR`` such a size is factorised out of core instead (ICNTL(22)
  = 1, the factors written to files in ``DIR``, removed at the end) when MUMPS's estimate for that
  (INFOG(26)/(27)) fits: the row gives its wall time, the growth of the peak RSS and, in the note, the
  wall time of one solve with the factors read back from disk.
* ``gamg``: the same matrix solved once by the model's CG + GAMG with the rigid-body near-nullspace (setup
  and solve wall time, iterations, growth of the peak RSS): the reference.

    .venv/bin/python benchmarks/fracture_3d_memory.py --layers 2,16,84 --ranks 2
    .venv/bin/python benchmarks/fracture_3d_memory.py --layers 84 --factors cholesky --ooc /tmp/ooc
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import launch_worker  # noqa: E402

__all__ = ["main", "worker"]

ROOT = Path(__file__).resolve().parents[1]


def _model(layers: int, solver: str):  # noqa: ANN202 (a gpfem Fracture)
    from mpi4py import MPI

    from gpfem.app.parameters import resolve
    from gpfem.models.fracture import Fracture
    from gpfem.models.fracture_run import preset_mesh
    from gpfem.models.fracture_spec import PARAMETERS, PRESETS

    pre = PRESETS["sent-3d"]
    p = resolve(PARAMETERS, pre, {"u_solver": solver, "crack_track": False, "output_format": "none",
                                  "png": False, "checkpoint_interval": 0, "layers": layers,
                                  "thickness": layers * pre["h_fine"]})
    return Fracture(preset_mesh(p, MPI.COMM_WORLD), p)


def _available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return float(line.split()[1]) / 1024.0
    return float("nan")


def worker(a: argparse.Namespace) -> None:
    """One size and solver on COMM_WORLD; rank 0 prints one ``RESULT`` JSON line."""
    import resource

    from mpi4py import MPI

    from petsc4py import PETSc

    comm = MPI.COMM_WORLD

    def peak() -> float:
        return comm.allreduce(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, op=MPI.MAX)

    layers = int(a.layers)
    m = _model(layers, "direct" if a.solver == "mumps" else "gamg")
    try:
        su = m.solver_u
        prob = su.problem
        m.u.x.petsc_vec.copy(prob.x)
        su.snes.computeJacobian(prob.x, prob.A, prob.A)
        A = prob.A
        row: dict = {"solver": a.solver, "ranks": comm.size, "dofs": A.getSize()[0], "layers": layers}
        before = peak()
        comm.barrier()
        t = time.perf_counter()
        if a.solver == "mumps":
            ksp = PETSc.KSP().create(comm)
            ksp.setType("preonly")
            pc = ksp.getPC()
            pc.setType(a.factor)
            pc.setFactorSolverType("mumps")
            ksp.setOperators(A)
            pc.setFactorSetUpSolverType()
            F = pc.getFactorMatrix()
            if not a.factorise:
                F.setMumpsIcntl(23, 1)  # 1 MB of working memory: MUMPS stops after its analysis
            elif a.ooc:
                os.environ["MUMPS_OOC_TMPDIR"] = a.ooc  # read by MUMPS when it opens its files
                F.setMumpsIcntl(22, 1)  # out of core: the factors go to disk
            try:
                pc.setUp()
            except PETSc.Error:
                pass  # the failed factorisation (INFO(1) = -19) when only the analysis is wanted
            row.update(est_mb_rank=F.getMumpsInfog(16), est_mb_total=F.getMumpsInfog(17),
                       est_ooc_mb_rank=F.getMumpsInfog(26), est_ooc_mb_total=F.getMumpsInfog(27),
                       est_gflops=F.getMumpsRinfog(1) / 1e9, info1=F.getMumpsInfog(1))
            if a.factorise:
                row.update(real_mb_rank=F.getMumpsInfog(21), real_mb_total=F.getMumpsInfog(22))
                if a.ooc:  # one solve with the factors read back from disk
                    comm.barrier()
                    t_solve = time.perf_counter()
                    b, x = A.createVecLeft(), A.createVecRight()
                    b.set(1.0)
                    ksp.solve(b, x)
                    comm.barrier()
                    row.update(solve_wall=time.perf_counter() - t_solve)
                    t += row["solve_wall"]  # the row's wall time is the factorisation's
            ksp.destroy()
        else:
            ksp = su.snes.getKSP()
            ksp.setOperators(A)
            b, x = A.createVecLeft(), A.createVecRight()
            b.set(1.0)
            ksp.solve(b, x)
            row.update(its=ksp.getIterationNumber(), reason=int(ksp.getConvergedReason()))
        comm.barrier()
        row.update(wall=time.perf_counter() - t, rss_growth=peak() - before, rss=peak())
    finally:
        m.close()
    if comm.rank == 0:
        print("RESULT " + json.dumps(row), flush=True)


def _launch(layers: int, solver: str, ranks: int, factorise: bool, timeout: float,
            factor: str = "lu", ooc: str = "") -> dict:
    args = ["--solver", solver, "--layers", str(layers), "--factor", factor,
            *(["--factorise"] if factorise else []), *(["--ooc", ooc] if ooc else [])]
    return launch_worker(__file__, args, ranks, timeout)


def _out_of_core(layers: int, ranks: int, timeout: float, factor: str, folder: str) -> dict:
    """Factorise out of core with the factor files in a new sub-folder of ``folder``, removed after."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    files = Path(folder) / f"gpfem-mumps-ooc-{os.getpid()}-{layers}-{factor}"
    files.mkdir()
    try:
        return _launch(layers, "mumps", ranks, True, timeout, factor, ooc=str(files))
    finally:
        shutil.rmtree(files, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Print the table (or run one worker with ``--worker``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", default="2,16,84", help="comma-separated element layers of sent-3d")
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--fit", type=float, default=0.6,
                    help="factorise with MUMPS if its estimate is below this fraction of MemAvailable")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--solver", default="mumps", help=argparse.SUPPRESS)
    ap.add_argument("--factorise", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--factor", default="lu", help=argparse.SUPPRESS)
    ap.add_argument("--factors", default="lu,cholesky",
                    help="MUMPS factorisations to estimate: lu and/or cholesky (L D L^T)")
    ap.add_argument("--ooc", default="",
                    help="factorise what does not fit in memory out of core, the factors in this folder")
    a = ap.parse_args(argv)
    if a.worker:
        worker(a)
        return 0
    print(f"{'layers':>6s} {'u DOFs':>9s} {'ranks':>5s} {'solver':6s} {'est MB/rank':>11s} {'est MB':>7s} "
          f"{'est GFlop':>9s} {'real MB/rank':>12s} {'real MB':>8s} {'wall s':>7s} {'RSS+ MB':>8s} "
          f"{'KSP its':>7s}  note", flush=True)
    for layers in (int(v) for v in a.layers.split(",")):
        for factor in a.factors.split(","):
            est = _launch(layers, "mumps", a.ranks, False, a.timeout, factor)
            avail = _available_mb()
            fits = est["est_mb_total"] < a.fit * avail
            ooc = not fits and bool(a.ooc) and est["est_ooc_mb_total"] < a.fit * avail
            if ooc:
                r = _out_of_core(layers, a.ranks, a.timeout, factor, a.ooc)
                note = (f"factorised out of core (estimate {est['est_mb_total']} MB in core, "
                        f"{est['est_ooc_mb_total']} MB out of core); one solve {r['solve_wall']:.1f} s")
            elif fits:
                r = _launch(layers, "mumps", a.ranks, True, a.timeout, factor)
                note = "factorised"
            else:
                r = est
                note = (f"does not fit: estimate {est['est_mb_total']} MB > {a.fit:g} x {avail:.0f} MB "
                        "available; analysis only")
            real = (f"{r['real_mb_rank']:12d} {r['real_mb_total']:8d} {r['wall']:7.1f} {r['rss_growth']:8.0f}"
                    if "real_mb_rank" in r else f"{'-':>12s} {'-':>8s} {est['wall']:7.1f} {'-':>8s}")
            name = "mumps" if factor == "lu" else "ldlt"
            print(f"{layers:6d} {est['dofs']:9d} {a.ranks:5d} {name:6s} {est['est_mb_rank']:11d} "
                  f"{est['est_mb_total']:7d} {est['est_gflops']:9.0f} {real} {'':>7s}  {note}", flush=True)
        g = _launch(layers, "gamg", a.ranks, False, a.timeout)
        print(f"{layers:6d} {g['dofs']:9d} {a.ranks:5d} {'gamg':6s} {'-':>11s} {'-':>7s} {'-':>9s} "
              f"{'-':>12s} {'-':>8s} {g['wall']:7.1f} {g['rss_growth']:8.0f} {g['its']:7d}  "
              f"CG + GAMG setup and one solve (reason {g['reason']})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
