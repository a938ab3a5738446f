# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: light
#       format_version: '1.5'
# ---

# # Spinodal decomposition with Cahn-Hilliard (PFHub benchmark 1 physics)
#
# A binary mixture quenched into its spinodal region separates into two phases. The free energy is a
# bulk double well plus the gradient penalty that prices every interface:
#
# $$
# F[c] = \int_\Omega \rho_s (c - c_\alpha)^2 (c_\beta - c)^2 + \frac{\kappa}{2} |\nabla c|^2 \, dx ,
# $$
#
# and composition is conserved while $F$ decreases:
#
# $$
# \partial_t c = \nabla \cdot (M \nabla \mu), \qquad \mu = \frac{\delta F}{\delta c}
#   = f'(c) - \kappa \Delta c, \qquad \nabla c \cdot n = \nabla\mu \cdot n = 0 .
# $$
#
# A small perturbation $\cos(kx)$ of $c_0$ grows at the rate
# $\omega(k) = -M k^2 (f''(c_0) + \kappa k^2)$: long waves grow, short waves are damped by the gradient
# penalty, and the fastest wave $k = \sqrt{-f''(c_0)/(4\kappa)}$ sets the first length scale of the
# pattern. gpfem writes $F$ once in UFL; $\mu$'s equation is its first variation (`ufl.derivative`)
# and Newton's Jacobian the second.
#
# Run it in serial or in parallel:
#
# ```
# .venv/bin/python demos/cahn_hilliard_spinodal.py
# .venv/bin/mpiexec -n 2 .venv/bin/python demos/cahn_hilliard_spinodal.py
# ```

# +
import math
import os

from mpi4py import MPI

import gpfem

# -

# ## Parameters
#
# PFHub benchmark 1's physics ($\rho_s = 5$, $c_\alpha = 0.3$, $c_\beta = 0.7$, $\kappa = 2$, $M = 5$)
# and its initial condition, on a 100 x 100 square. `CahnHilliardParameters` checks every value as
# `gpfem run cahn-hilliard --set ...` does (a bad one raises a `ParameterError` naming it). Under `CI=true`
# the run is cut short.

# +
comm = MPI.COMM_WORLD
ci = os.environ.get("CI", "").lower() == "true"
params = gpfem.CahnHilliardParameters(
    Lx=100.0, Ly=100.0, nx=100 if not ci else 40, ny=100 if not ci else 40,
    t_end=300.0 if not ci else 5.0, dt=0.05, dt_max=4.0, stop_times=[1.0, 10.0, 100.0], field_interval=10,
)
log = print if comm.rank == 0 else (lambda _m: None)
gpfem.configure_logging(0, comm)  # the time loop's progress lines, on rank 0

c0, ca, cb = params.c0, params.c_alpha, params.c_beta
f2 = params.rho_s * (2 * (cb - c0) ** 2 - 8 * (c0 - ca) * (cb - c0) + 2 * (c0 - ca) ** 2)
k_fast = math.sqrt(-f2 / (4 * params.kappa))
log(f"f''(c0) = {f2:.3g}; fastest-growing wavelength 2 pi / k = {2 * math.pi / k_fast:.1f}")
# -

# ## Implementation
#
# Mesh (gmsh, built on rank 0 and distributed; a `dolfinx.mesh.Mesh` of your own works too), model
# (fields + energy + SNES with prefix `gpfem_ch_`), and the shared time loop (adaptive dt); `RunOutput`
# names the folder for the history, the `.pvd` series and the checkpoints (made if missing; pass no output
# to keep the run in memory).

# +
mesh = gpfem.rectangle(params.Lx, params.Ly, params.nx, params.ny, comm=comm)
model = gpfem.CahnHilliard(mesh, params)
initial = model.values
log(f"energy terms: {model.energy.names}; F(0) = {initial['free_energy']:.4f}")
output = gpfem.RunOutput("runs/demo_spinodal")
try:
    result = gpfem.run_time_loop(model, gpfem.step_control(params), gpfem.loop_settings(params), output)
finally:
    model.close()
pngs = gpfem.CahnHilliard.post(output.out_dir, comm)  # the pictures `gpfem post` makes
final = model.values
log(f"{result['steps']} steps to t = {result['time']:g}; F: {initial['free_energy']:.4f} -> "
    f"{final['free_energy']:.4f}; relative mass change {abs(final['mass'] / initial['mass'] - 1):.1e}")
log(f"outputs in {output.out_dir}: history.csv, {result['field_file']}, {', '.join(pngs)}")
# -
