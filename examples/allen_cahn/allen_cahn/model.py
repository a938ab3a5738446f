"""Allen-Cahn on gpfem's public API: dphi/dt = -L dF/dphi, F = int W phi^2 (1-phi)^2 + kappa/2|grad phi|^2."""

import numpy as np
import ufl
from dolfinx import fem

import gpfem


def initial_condition(phi, p):
    """``step``: a wall at x = Lx/2; ``disk``: 1 inside radius R0; ``random``: 0.5 +- 0.05 per vertex."""
    if p["initial"] == "step":
        phi.interpolate(lambda x: np.where(np.isclose(x[0], p["Lx"] / 2), 0.5, x[0] > p["Lx"] / 2))
    elif p["initial"] == "disk":
        r = lambda x: np.hypot(x[0] - p["Lx"] / 2, x[1] - p["Ly"] / 2)  # noqa: E731
        phi.interpolate(lambda x: (r(x) < p["R0"]).astype(float))
    else:
        rng = np.random.default_rng(p["seed"])
        phi.x.array[:] = 0.45 + 0.1 * gpfem.vertex_random(phi.function_space, rng)[0]


def build(run):
    """The gradient flow on the run's mesh, from its initial condition (gpfem's runner does the rest)."""
    p, msh = run.params, run.base.mesh
    V = fem.functionspace(msh, ("Lagrange", 1))
    phi, phi_n = fem.Function(V, name="phi"), fem.Function(V, name="phi_n")
    W, kappa, L = gpfem.constants(msh, p, "W", "kappa", "mobility")  # new values: no new compilation
    dt = fem.Constant(msh, 1.0)
    energy = gpfem.Energy(ufl.dx(domain=msh), bulk=gpfem.double_well(phi, W, 0.0, 1.0),
                          gradient=gpfem.gradient_penalty(phi, kappa))
    v = ufl.TestFunction(V)
    residual = (phi - phi_n) / (L * dt) * v * ufl.dx + energy.residual(phi, v)  # backward Euler
    initial_condition(phi, p)
    solver = gpfem.NonlinearSolver(residual, phi, prefix="allen_cahn_")
    return gpfem.GradientFlow(solver, phi, phi_n, dt, energy)


def summary(run):
    """The summary's results: the loop's (steps, final time, ...), the final and the analytic wall energy."""
    p, V = run.params, run.model.state.function_space
    return {**gpfem.loop_values(run), "final_energy": run.final["energy"],
            "dofs": V.dofmap.index_map.size_global, "analytic_wall_energy": (2 * p.kappa * p.W) ** 0.5 / 6}


def mesh(p, ctx):
    """The user's ``--mesh`` file if one was given, else a rectangle."""
    return ctx.mesh(lambda: gpfem.rectangle(p.Lx, p.Ly, p.nx, p.ny, comm=ctx.comm))


HOOKS = gpfem.RunHooks(name="allen-cahn", mesh=mesh, build=build, summary=summary)


def post(out_dir, comm=None):
    """Pictures from the run folder (``png = true`` at the end of a run, or ``gpfem post DIR``)."""
    if not gpfem.writer_rank(comm):  # every rank waits for the files; rank 0 draws
        return []
    pvd, made = gpfem.field_series(out_dir), []
    if pvd is not None:  # phi at the last field output, read back from fields.pvd
        made.append(gpfem.field_png(pvd, "phi", f"{out_dir}/phi.png", clim=(0.0, 1.0), title="phi").name)
    if gpfem.history_curve(gpfem.read_history(f"{out_dir}/history.csv"), "energy", f"{out_dir}/energy.png",
                           "energy F", "Allen-Cahn", x="time"):
        made.append("energy.png")
    return made
