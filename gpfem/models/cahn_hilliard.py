r"""Cahn-Hilliard phase separation as a gradient-penalty energy.

Free energy

.. math:: F[c] = \int_\Omega f(c) + \frac{\kappa}{2}|\nabla c|^2 \,dx, \qquad
          f(c) = \rho_s (c - c_\alpha)^2 (c_\beta - c)^2,

and conserved gradient flow :math:`\partial_t c = \nabla\cdot(M \nabla\mu)`, :math:`\mu = \delta F/\delta c`.
Mixed P1 x P1 formulation in :math:`(c, \mu)`: the chemical-potential equation is the first variation of
``F`` (``ufl.derivative``), never expanded by hand; theta time stepping (Crank-Nicolson by default) on the
adaptive stepper.
"""

from __future__ import annotations

import time
from typing import Any

import dolfinx_solver  # noqa: F401  (loads libmpi before dolfinx/petsc4py)

import basix.ufl
import numpy as np
import ufl
from dolfinx import fem
from dolfinx.fem.petsc import LinearProblem
from petsc4py import PETSc

from gpfem.core.energy import Energy, double_well, gradient_penalty
from gpfem.core.errors import ConvergenceError
from gpfem.core.gradient_flow import GradientFlowStepping
from gpfem.core.solver import NonlinearSolver, destroy_petsc, ksp_reason_name
from gpfem.core.timeloop import run_time_loop
from gpfem.mesh import MeshBundle, load_mesh, rectangle
from gpfem.mesh.vertices import vertex_random
from gpfem.models.common import loop_settings, step_control

__all__ = ["COLUMNS", "INIT_OPTIONS", "CahnHilliard", "initial_condition", "run"]

COLUMNS = [
    "step", "time", "dt", "free_energy", "bulk_energy", "gradient_energy", "mass",
    "newton_iterations",
]

#: The initial chemical-potential projection (prefix ``gpfem_ch_init_``).
INIT_OPTIONS = {"ksp_type": "cg", "pc_type": "jacobi", "ksp_rtol": 1e-12, "ksp_atol": 1e-30,
                "ksp_max_it": 2000}


def initial_condition(p: dict[str, Any], V: Any) -> Any:
    """The initial composition as a function of coordinates (or of vertex input indices for noise).

    ``pfhub1``: PFHub benchmark 1's ``c0 + eps [cos(0.105x)cos(0.11y) + (cos(0.13x)cos(0.087y))^2
    + cos(0.025x - 0.15y)cos(0.07x - 0.02y)]``; ``cosine``: ``c0 + eps cos(k x)``; ``random``:
    ``c0 + eps (1 - 2r)`` with r uniform per mesh vertex, seeded and independent of the partition.
    """
    c0, eps = p["c0"], p["epsilon"]
    f = fem.Function(V)
    kind = p["initial"]
    if kind == "pfhub1":
        f.interpolate(lambda x: c0 + eps * (
            np.cos(0.105 * x[0]) * np.cos(0.11 * x[1])
            + (np.cos(0.13 * x[0]) * np.cos(0.087 * x[1])) ** 2
            + np.cos(0.025 * x[0] - 0.15 * x[1]) * np.cos(0.07 * x[0] - 0.02 * x[1])))
    elif kind == "cosine":
        k = p["wavenumber"]
        f.interpolate(lambda x: c0 + eps * np.cos(k * x[0]))
    else:
        r = vertex_random(V, np.random.default_rng(p["seed"]))[0]
        f.x.array[:] = c0 + eps * (1.0 - 2.0 * r)
    f.x.scatter_forward()
    return f


class CahnHilliard(GradientFlowStepping):
    """The Cahn-Hilliard model on a mesh.

    Args:
        p: Resolved parameters (see :mod:`gpfem.models.cahn_hilliard_spec`).
        bundle: The mesh.
    """

    def __init__(self, p: dict[str, Any], bundle: MeshBundle):
        self.p = p
        self.bundle = bundle
        mesh = bundle.mesh
        self.comm = mesh.comm
        P1 = basix.ufl.element("Lagrange", mesh.basix_cell(), 1)
        self.W = fem.functionspace(mesh, basix.ufl.mixed_element([P1, P1]))
        self.V, self._map_c = self.W.sub(0).collapse()
        _, self._map_mu = self.W.sub(1).collapse()
        self.u = self.state = fem.Function(self.W, name="u")
        self.u_n = self.state_n = fem.Function(self.W, name="u_n")
        self.energy_key, self.energy_tol = "free_energy", 1e-9
        self.check_energy = bool(p["energy_check"])
        self.dt = fem.Constant(mesh, 1.0)
        theta = fem.Constant(mesh, float(p["theta"]))
        M = fem.Constant(mesh, float(p["mobility"]))

        c, mu = ufl.split(self.u)
        c_n, mu_n = ufl.split(self.u_n)
        q, v = ufl.TestFunctions(self.W)
        dx = ufl.dx(domain=mesh)
        self.energy = Energy(
            dx,
            bulk=double_well(c, p["rho_s"], p["c_alpha"], p["c_beta"]),
            gradient=gradient_penalty(c, p["kappa"]),
        )
        mu_mid = (1.0 - theta) * mu_n + theta * mu
        # dF/dc in the direction v: the chemical-potential equation, by ufl.derivative.
        dF_dc = ufl.derivative(self.energy.form(), self.u, ufl.as_vector([v, 0]))
        residual = (
            (c - c_n) / self.dt * q * dx
            + M * ufl.inner(ufl.grad(mu_mid), ufl.grad(q)) * dx
            + mu * v * dx
            - dF_dc
        )
        self.solver = NonlinearSolver(residual, self.u, prefix="gpfem_ch_")
        self._mass = fem.form(c * dx)
        self.c_out = fem.Function(self.V, name="c")
        self.mu_out = fem.Function(self.V, name="mu")
        self.set_initial(initial_condition(p, self.V))

    # -- state -----------------------------------------------------------------------------------
    def set_initial(self, c_init: Any) -> None:
        """Set c and the consistent mu = f'(c) - kappa lap c (an L2 projection of dF/dc)."""
        self.u.x.array[self._map_c] = c_init.x.array
        mu, v = ufl.TrialFunction(self.V), ufl.TestFunction(self.V)
        c = fem.Function(self.V)
        c.x.array[:] = c_init.x.array
        E = Energy(ufl.dx(domain=self.V.mesh),
                   bulk=double_well(c, self.p["rho_s"], self.p["c_alpha"], self.p["c_beta"]),
                   gradient=gradient_penalty(c, self.p["kappa"]))
        # A mass-matrix solve: CG + Jacobi to 1e-12 exists in every PETSc (no MUMPS needed) and is cheap;
        # -gpfem_ch_init_* options on the command line win over these.
        db, pre = PETSc.Options(), "gpfem_ch_init_"
        opts = {k: v for k, v in INIT_OPTIONS.items() if not db.hasName(pre + k)}
        prob = LinearProblem(mu * v * ufl.dx, E.residual(c, v), petsc_options_prefix=pre, petsc_options=opts)
        mu_h = prob.solve()
        reason = prob.solver.getConvergedReason()
        if reason <= 0:
            raise ConvergenceError(pre, ksp_reason=ksp_reason_name(reason),
                                   iterations=prob.solver.getIterationNumber())
        self.u.x.array[self._map_mu] = mu_h.x.array
        destroy_petsc(prob)
        self.u.x.scatter_forward()
        self.u_n.x.array[:] = self.u.x.array
        self._values = self._measure()

    def _measure(self) -> dict[str, float]:
        vals = self.energy.values()
        mass = self.comm.allreduce(fem.assemble_scalar(self._mass))
        return {"free_energy": vals["total"], "bulk_energy": vals["bulk"],
                "gradient_energy": vals["gradient"], "mass": float(mass)}

    def propose_dt(self, new: float, old: float, dt: float) -> float | None:
        """``dt_policy=energy``: dt_max / sqrt(1 + alpha |dF/dt|^2) (else the iteration rule)."""
        if self.p["dt_policy"] != "energy":
            return None
        rate = (new - old) / dt
        return self.p["dt_max"] / (1.0 + self.p["dt_alpha"] * rate**2) ** 0.5

    def close(self) -> None:
        """Destroy the solver's PETSc objects (collective: call on every rank)."""
        self.solver.close()

    # -- outputs ---------------------------------------------------------------------------------
    def history_row(self) -> dict[str, Any]:
        """Energies and mass of the current state."""
        return {**self._values, "newton_iterations": 0}

    def output_functions(self) -> list[Any]:
        """``c`` and ``mu`` on P1."""
        return [self.c_out, self.mu_out]

    def update_outputs(self) -> None:
        """Copy c and mu out of the mixed function."""
        self.c_out.x.array[:] = self.u.x.array[self._map_c]
        self.mu_out.x.array[:] = self.u.x.array[self._map_mu]

    def checkpoint_fields(self) -> dict[str, tuple[Any, int | None]]:
        """C and mu, as sub-spaces of the mixed function."""
        return {"c": (self.u, 0), "mu": (self.u, 1)}


def build_mesh(p: dict[str, Any], ctx: Any) -> MeshBundle:
    """The preset's rectangle, or the user's mesh file."""
    if ctx.mesh_file is not None:
        return load_mesh(ctx.mesh_file, ctx.comm)
    return rectangle(p["Lx"], p["Ly"], p["nx"], p["ny"], comm=ctx.comm)


def run(p: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Run Cahn-Hilliard with resolved parameters; return the summary's final values."""
    t0 = time.perf_counter()
    bundle = build_mesh(p, ctx)
    model = CahnHilliard(p, bundle)
    ndofs = model.W.dofmap.index_map.size_global * model.W.dofmap.index_map_bs
    ctx.log(f"cahn-hilliard: {bundle.source}, {bundle.num_cells_global()} cells, {ndofs} DOFs, "
            f"{ctx.comm.size} rank(s); setup {time.perf_counter() - t0:.1f} s")
    initial = model.values
    try:
        res = run_time_loop(model, step_control(p), loop_settings(p), ctx, COLUMNS,
                            restart=ctx.restart is not None)
        final = model.values
    finally:
        model.close()
    summary = {
        "dofs": ndofs,
        "cells": bundle.num_cells_global(),
        "mesh": bundle.source,
        "steps": res["steps"],
        "rejected_steps": res["rejected_steps"],
        "final_time": res["time"],
        "initial_free_energy": initial["free_energy"],
        "final_free_energy": final["free_energy"],
        "initial_mass": initial["mass"],
        "final_mass": final["mass"],
        "field_file": res["field_file"],
    }
    if p["png"] and res["field_file"] and res["field_file"].endswith(".pvd"):
        summary["png"] = post(ctx.out_dir, ctx.comm)
    return summary


def post(out_dir: Any, comm: Any = None) -> list[str]:
    """PNGs from a run folder: the final composition and the free-energy curve (rank 0 only)."""
    from pathlib import Path

    from gpfem.io.history import read_history
    from gpfem.io.plots import field_png, history_curve, writer_rank

    out = Path(out_dir)
    made: list[str] = []
    if not writer_rank(comm):
        return made
    pvds = sorted(out.glob("fields*.pvd"))
    if pvds:
        field_png(pvds[-1], "c", out / "c.png", cmap="RdBu_r", title="c")
        made.append("c.png")
    rows = read_history(out / "history.csv")
    if history_curve(rows, "free_energy", out / "free_energy.png", "free energy",
                     "Cahn-Hilliard free energy"):
        made.append("free_energy.png")
    return made
