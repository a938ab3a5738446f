"""Cahn-Hilliard: gpfem vs the plain scheme of DOLFINx's own Cahn-Hilliard demo, in one invocation.

Same problem for both: unit square, 96 x 96 triangles, P1 x P1 (18,818 DOFs), f = 100 c^2 (1 - c)^2,
kappa (the demo's lambda) = 1e-2, M = 1, theta = 0.5, dt = 5e-6, 50 steps, the same random initial
condition c = 0.63 + 0.02 (0.5 - r) on the same gmsh mesh. The reference is the demo's scheme written
out here: hand-expanded weak form, SNES Newton without line search, stopping on the increment (stol =
sqrt(eps) 1e-2, as the demo's NewtonSolver "incremental" rtol), LU by MUMPS. gpfem derives the same
equations from its energy and uses the defaults a user gets (Newton + backtracking, rtol 1e-9 / atol 1e-10
on the residual; a blocked P1^2 space with a BAIJ Jacobian; GMRES + ASM(1)/ILU(1), rtol 1e-8, above 2,000
DOFs, MUMPS below and as the fallback).

A third gpfem run (not in the ratio) starts from mu = 0 as the demo does and prints the relative
differences of its final mean c and free energy to the reference's (the accuracy check: 1e-6).

Each code runs in its own PETSc log stage; the second table splits its solve time by PETSc's events
(maximum over ranks): residual (SNESFunctionEval), Jacobian (SNESJacobianEval), PC set-up (PCSetUp +
PCSetUpOnBlocks: the LU or ILU factorisations), Krylov (KSPSolve: triangular solves, products,
orthogonalisation) and the rest (line search vector work, energy measures, Python).

    .venv/bin/python benchmarks/cahn_hilliard_vs_dolfinx_demo.py
    .venv/bin/mpiexec -n 2 .venv/bin/python benchmarks/cahn_hilliard_vs_dolfinx_demo.py
"""

from __future__ import annotations

import os
import time

from mpi4py import MPI

import basix.ufl
import numpy as np
import ufl
from dolfinx import fem
from dolfinx.fem.petsc import NonlinearProblem
from petsc4py import PETSc

from gpfem.app.parameters import resolve
from gpfem.drivers.stepping import AdaptiveStepper, StepControl
from gpfem.mesh import rectangle
from gpfem.models.cahn_hilliard import CahnHilliard, initial_condition
from gpfem.models.cahn_hilliard_spec import PARAMETERS

N, DT, STEPS = 96, 5e-6, 50 if os.environ.get("CI", "").lower() != "true" else 5
PARAMS = dict(rho_s=100.0, c_alpha=0.0, c_beta=1.0, kappa=1e-2, mobility=1.0, theta=0.5,
              initial="random", c0=0.63, epsilon=0.01, seed=42, Lx=1.0, Ly=1.0, nx=N, ny=N,
              dt=DT, dt_min=DT, dt_max=DT, energy_check=False)
comm = MPI.COMM_WORLD
PHASES = {"residual": ["SNESFunctionEval"], "Jacobian": ["SNESJacobianEval"],
          "PC setup": ["PCSetUp", "PCSetUpOnBlocks"], "Krylov": ["KSPSolve"]}


def _phases(stage: PETSc.Log.Stage, solve: float) -> dict[str, float]:
    """Seconds per phase inside ``stage`` (max over ranks), and the rest of ``solve``."""
    out = {}
    for name, events in PHASES.items():
        t = sum(PETSc.Log.Event(e).getPerfInfo(stage.id)["time"] for e in events)
        out[name] = comm.allreduce(t, op=MPI.MAX)
    out["other"] = solve - sum(out.values())
    return out


def _energy(c) -> float:  # noqa: ANN001
    """The free energy of both runs: int 100 c^2 (1 - c)^2 + (1e-2 / 2) |grad c|^2."""
    e = 100 * c**2 * (1 - c) ** 2 + 0.5e-2 * ufl.inner(ufl.grad(c), ufl.grad(c))
    return comm.allreduce(fem.assemble_scalar(fem.form(e * ufl.dx)))


def run_gpfem(mu_zero: bool = False) -> dict:
    """gpfem with its defaults; ``mu_zero``: from mu = 0 as the demo (the accuracy check, not timed)."""
    p = resolve(PARAMETERS, PARAMS)
    t0 = time.perf_counter()
    model = CahnHilliard(rectangle(1.0, 1.0, N, N, comm=comm), p)
    if mu_zero:
        model.u.x.array[model._map_mu] = 0.0
        model.prepare(0.0)
    setup = time.perf_counter() - t0
    stepper = AdaptiveStepper(model, StepControl(dt=DT, dt_min=DT, dt_max=DT, grow=1.0))
    newton = ksp = 0
    t = 0.0
    PETSc.Log.begin()
    stage = PETSc.Log.Stage("gpfem from mu = 0" if mu_zero else "gpfem")
    stage.push()
    t1 = time.perf_counter()
    for _ in range(STEPS):
        t, _, res = stepper.step(t)
        newton += res.iterations
        ksp += model.solver.snes.getLinearSolveIterations()
    solve = time.perf_counter() - t1
    stage.pop()
    ndofs = model.W.dofmap.index_map.size_global * model.W.dofmap.index_map_bs
    vals = model.values
    solver = model.solver.snes.getKSP().getType() + "+" + model.solver.snes.getKSP().getPC().getType()
    model.close()
    return dict(code="gpfem", dofs=ndofs, newton=newton, ksp=ksp, setup=setup, solve=solve,
                mass=vals["mass"], energy=vals["free_energy"], linear=solver, phases=_phases(stage, solve))


def run_reference() -> dict:
    """The DOLFINx demo's scheme, written out (hand-expanded weak form)."""
    t0 = time.perf_counter()
    msh = rectangle(1.0, 1.0, N, N, comm=comm).mesh  # the same (gmsh) mesh as gpfem's run
    P1 = basix.ufl.element("Lagrange", msh.basix_cell(), 1)
    ME = fem.functionspace(msh, basix.ufl.mixed_element([P1, P1]))
    q, v = ufl.TestFunctions(ME)
    u, u0 = fem.Function(ME), fem.Function(ME)
    c, mu = ufl.split(u)
    c0, mu0 = ufl.split(u0)
    V0, dofs = ME.sub(0).collapse()
    # the same initial condition as gpfem's run (vertex-indexed, partition independent)
    ic = initial_condition(resolve(PARAMETERS, PARAMS), V0)
    u.x.array[dofs] = ic.x.array
    u.x.scatter_forward()
    cv = ufl.variable(c)
    dfdc = ufl.diff(100 * cv**2 * (1 - cv) ** 2, cv)
    mu_mid = 0.5 * mu0 + 0.5 * mu
    F = (ufl.inner(c, q) * ufl.dx - ufl.inner(c0, q) * ufl.dx
         + DT * ufl.inner(ufl.grad(mu_mid), ufl.grad(q)) * ufl.dx
         + ufl.inner(mu, v) * ufl.dx - ufl.inner(dfdc, v) * ufl.dx
         - 1e-2 * ufl.inner(ufl.grad(c), ufl.grad(v)) * ufl.dx)
    opts = {"snes_type": "newtonls", "snes_linesearch_type": "none",
            "snes_stol": np.sqrt(np.finfo(float).eps) * 1e-2, "snes_atol": 0, "snes_rtol": 0,
            "snes_max_it": 50, "ksp_type": "preonly", "pc_type": "lu",
            "pc_factor_mat_solver_type": "mumps"}
    problem = NonlinearProblem(F, u, petsc_options_prefix="reference_ch_", petsc_options=opts)
    setup = time.perf_counter() - t0
    u0.x.array[:] = u.x.array
    newton = ksp = 0
    PETSc.Log.begin()
    stage = PETSc.Log.Stage("DOLFINx demo scheme")
    stage.push()
    t1 = time.perf_counter()
    for _ in range(STEPS):
        problem.solve()
        snes = problem.solver
        assert snes.getConvergedReason() > 0, snes.getConvergedReason()
        newton += snes.getIterationNumber()
        ksp += snes.getLinearSolveIterations()
        u0.x.array[:] = u.x.array
    solve = time.perf_counter() - t1
    stage.pop()
    mass = comm.allreduce(fem.assemble_scalar(fem.form(c * ufl.dx)))
    for obj in (problem.solver, problem.A, problem.b, problem.x):
        obj.destroy()
    return dict(code="DOLFINx demo scheme", dofs=ME.dofmap.index_map.size_global, newton=newton,
                ksp=ksp, setup=setup, solve=solve, mass=mass, energy=_energy(c), linear="preonly+lu",
                phases=_phases(stage, solve))


def main() -> None:
    load = os.getloadavg()
    rows = [run_reference(), run_gpfem()]
    same_start = run_gpfem(mu_zero=True)
    for r in rows:
        r["setup"] = comm.allreduce(r["setup"], op=MPI.MAX)
        r["solve"] = comm.allreduce(r["solve"], op=MPI.MAX)
    if comm.rank == 0:
        print(f"\nCahn-Hilliard, {N}x{N} P1xP1, dt = {DT:g}, {STEPS} steps, {comm.size} rank(s); "
              f"load average {load[0]:.1f} at start, {os.getloadavg()[0]:.1f} at the end "
              f"({os.cpu_count()} cores)")
        hdr = (f"{'code':20s} {'DOFs':>6s} {'ranks':>5s} {'linear solver':>13s} {'Newton':>6s} {'KSP':>5s} "
               f"{'setup s':>7s} {'solve s':>7s} {'s/Newton':>8s} {'mean c':>12s} {'free energy':>14s}")
        print(hdr)
        print("-" * len(hdr))
        for r in rows:
            per = r["solve"] / max(r["newton"], 1)
            print(f"{r['code']:20s} {r['dofs']:6d} {comm.size:5d} {r['linear']:>13s} {r['newton']:6d} "
                  f"{r['ksp']:5d} {r['setup']:7.2f} {r['solve']:7.2f} {per:8.4f} "
                  f"{r['mass']:12.9f} {r['energy']:14.10f}")
        ref, gp = rows
        print(f"ratio (reference / gpfem) solve time: {ref['solve'] / gp['solve']:.2f}; "
              f"Newton iterations {ref['newton']} vs {gp['newton']}; s/Newton ratio "
              f"{(ref['solve'] / ref['newton']) / (gp['solve'] / gp['newton']):.2f}")
        d_mass = abs(same_start["mass"] - ref["mass"]) / abs(ref["mass"])
        d_energy = abs(same_start["energy"] - ref["energy"]) / abs(ref["energy"])
        print("free energy: the reference starts from mu = 0 (as the demo), gpfem from the consistent "
              "mu = f'(c) - kappa lap c;")
        print(f"gpfem from mu = 0 too ({same_start['newton']} Newton): final mean c "
              f"{same_start['mass']:.9f}, "
              f"free energy {same_start['energy']:.10f}: relative differences to the reference {d_mass:.1e} "
              f"and {d_energy:.1e} ({'within' if max(d_mass, d_energy) <= 1e-6 else 'NOT within'} 1e-6)")
        print("\nsolve time by phase, s (max over ranks; PC setup = the LU or ILU factorisations)")
        names = [*PHASES, "other"]
        print(f"{'code':20s} " + " ".join(f"{n:>9s}" for n in names))
        for r in rows:
            print(f"{r['code']:20s} " + " ".join(f"{r['phases'][n]:9.2f}" for n in names))


if __name__ == "__main__":
    main()
