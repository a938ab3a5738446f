"""What periodic boundaries cost: Cahn-Hilliard no-flux vs periodic in x and y, in one invocation.

Same problem for both: 128 x 128 square (h = 1), P1 x P1 (33,282 DOFs; 32,768 reduced unknowns when
periodic), random start c = 0.5 +- 0.05 (seed 0), fixed dt = 0.5, 20 steps, gpfem's default linear
solver for this size. The periodic run adds building the dof map and P (set-up), and per Newton
iteration one PtAP (Jacobian) and two sparse mat-vecs (residual).

    .venv/bin/python benchmarks/periodic_overhead.py
    .venv/bin/mpiexec -n 2 .venv/bin/python benchmarks/periodic_overhead.py
    .venv/bin/python benchmarks/periodic_overhead.py --direct    # MUMPS LU for both (no Krylov counts)
"""

from __future__ import annotations

import os
import sys
import time

from mpi4py import MPI

from gpfem.app.parameters import resolve
from gpfem.drivers.stepping import AdaptiveStepper, StepControl
from gpfem.mesh import rectangle
from gpfem.models.cahn_hilliard import CahnHilliard
from gpfem.models.cahn_hilliard_spec import PARAMETERS

N, DT = 128, 0.5
STEPS = 20 if os.environ.get("CI", "").lower() != "true" else 3
comm = MPI.COMM_WORLD


def run(periodic: str) -> dict:
    p = resolve(PARAMETERS, dict(initial="random", c0=0.5, epsilon=0.05, seed=0, Lx=float(N), Ly=float(N),
                                 nx=N, ny=N, periodic=periodic, energy_check=False))
    bundle = rectangle(float(N), float(N), N, N, comm=comm)
    comm.barrier()
    t0 = time.perf_counter()
    model = CahnHilliard(bundle, p)
    setup = comm.allreduce(time.perf_counter() - t0, op=MPI.MAX)
    stepper = AdaptiveStepper(model, StepControl(dt=DT, dt_min=DT, dt_max=DT, grow=1.0))
    newton = ksp = 0
    t, t1 = 0.0, time.perf_counter()
    for _ in range(STEPS):
        t, _, _ = stepper.step(t, 1e9)
        newton += model.solver.snes.getIterationNumber()
        ksp += model.solver.snes.getLinearSolveIterations()
    solve = comm.allreduce(time.perf_counter() - t1, op=MPI.MAX)
    unknowns = (model.solver.problem.size_global if model.periodic is not None
                else model.W.dofmap.index_map.size_global * model.W.dofmap.index_map_bs)
    parts = {}
    if model.periodic is not None:  # the pieces periodicity adds, timed on their own (median of 10)
        prob = model.solver.problem
        A = prob.A
        for key, fn in (("assemble J", prob._assemble_full_jacobian),
                        ("PtAP", lambda: prob._A_full.ptap(prob.prolongation.P, result=A)),
                        ("prolong + P^T F", lambda: (prob.prolongation.prolong(prob.x, model.u),
                                                     prob.prolongation.multiply_transpose(prob._b_full,
                                                                                          prob.b)))):
            ts = []
            for _ in range(10):
                comm.barrier()
                t2 = time.perf_counter()
                fn()
                ts.append(comm.allreduce(time.perf_counter() - t2, op=MPI.MAX))
            parts[key] = sorted(ts)[5]
    out = dict(parts=parts, name=f"{'periodic x,y' if periodic != 'none' else 'no-flux'}", unknowns=unknowns,
               newton=newton, ksp=ksp, setup=setup, solve=solve, F=model.values["free_energy"])
    model.close()
    return out


def main() -> None:
    if "--direct" in sys.argv:
        from petsc4py import PETSc

        opts = PETSc.Options()
        for k, v in (("ksp_type", "preonly"), ("pc_type", "lu"), ("pc_factor_mat_solver_type", "mumps")):
            opts[f"gpfem_ch_{k}"] = v
    rows = [run("none"), run("x,y"), run("none"), run("x,y")]  # twice each: the second pair is warm
    if comm.rank:
        return
    solver = "MUMPS LU" if "--direct" in sys.argv else "default linear solver"
    print(f"Cahn-Hilliard {N}^2, {STEPS} steps of dt = {DT}, {solver}, {comm.size} rank(s), load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'run':14s} {'unknowns':>9s} {'Newton':>7s} {'KSP':>6s} {'setup s':>8s} {'solve s':>8s} "
          f"{'ms/Newton':>9s} {'F':>10s}")
    for r in rows:
        print(f"{r['name']:14s} {r['unknowns']:9d} {r['newton']:7d} {r['ksp']:6d} {r['setup']:8.2f} "
              f"{r['solve']:8.2f} {1e3 * r['solve'] / r['newton']:9.1f} {r['F']:10.4f}")
    print("periodic pieces, ms each: " + ", ".join(f"{k} {1e3 * v:.1f}" for k, v in rows[3]["parts"].items()))
    base, per = rows[2], rows[3]
    print(f"periodic / no-flux, warm pair: solve time per Newton iteration "
          f"{(per['solve'] / per['newton']) / (base['solve'] / base['newton']):.2f}x")


if __name__ == "__main__":
    main()
