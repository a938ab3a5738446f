# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: light
# ---

# # Phase-field fracture of a single-edge-notched specimen (SENT)
#
# A unit square with a notch from the left edge to the centre is pulled at its top edge
# (Miehe et al. 2010). The crack is the damage field $\alpha \in [0, 1]$ minimising
#
# $$
# E(u, \alpha) = \int_\Omega \big((1-\alpha)^2 + k_{res}\big)\,\psi^+(\varepsilon(u)) + \psi^-(\varepsilon(u))
#   + \frac{G_c}{c_w}\Big(\frac{w(\alpha)}{\ell} + \ell\,|\nabla\alpha|^2\Big)\,dx
# $$
#
# with AT2 ($w = \alpha^2$, $c_w = 2$) or AT1 ($w = \alpha$, $c_w = 8/3$), under the constraint
# $\alpha_{prev} \le \alpha \le 1$ (irreversibility, imposed as bounds of the SNES variational-inequality
# solver). The term $\frac{G_c}{c_w}\ell|\nabla\alpha|^2$ is gpfem's one gradient penalty
# $\frac{\kappa}{2}|\nabla\alpha|^2$ with $\kappa = 2 G_c \ell / c_w$. Run it serial or in parallel:
#
#     .venv/bin/python demos/fracture_sent.py
#     .venv/bin/mpiexec -n 2 .venv/bin/python demos/fracture_sent.py
#
# With `CI=true` in the environment the demo uses the coarse `sent-ci` preset (a few seconds).

# +
import os

from mpi4py import MPI

import numpy as np

import gpfem

comm = MPI.COMM_WORLD
CI = os.environ.get("CI", "").lower() == "true"
# -

# ## Parameters
# Miehe's material: $\lambda = 121.15$, $\mu = 80.77$ kN/mm$^2$ (so $E = 210$ kN/mm$^2$, $\nu = 0.3$),
# $G_c = 2.7\cdot10^{-3}$ kN/mm, $\ell = 0.015$ mm, plane strain; the mesh has $h = 0.0075$ mm in the
# band $0.45 \le y \le 0.55$ where the crack runs. `FractureParameters.from_preset` starts from the
# command line's preset (`gpfem list fracture`); keywords override it, checked as `--set` checks them.

preset = "sent-ci" if CI else "sent"
params = gpfem.FractureParameters.from_preset(preset)
if comm.rank == 0:
    print({k: params[k] for k in ("E", "nu", "Gc", "ell", "model", "split", "k_res", "load_max")})
    print(f"1D peak stress of the homogeneous {params.model} solution: "
          f"{gpfem.critical_stress(params.model, params.E, params.Gc, params.ell):.3f} kN/mm^2")

# ## Run
# The notched square (gmsh, refined in the band; its boundary groups `bottom` and `top` carry the
# boundary conditions), the model (energy and the two SNES solvers `gpfem_displacement_`, `gpfem_damage_`)
# and the shared loop, whose pseudo-time is the imposed displacement: increments shrink where the crack runs.

# +
lo, hi = params.band
mesh = gpfem.notched_plate(params.L, params.notch_length, params.notch_width, params.h_fine, params.h_coarse,
                           band=(lo * params.L, hi * params.L), comm=comm)
model = gpfem.Fracture(mesh, params)
control = gpfem.StepControl(dt=params.dload, dt_min=params.dload_min, dt_max=params.dload_max,
                            grow=params.dload_grow, easy_iterations=params.easy_iterations, max_retries=60)
settings = gpfem.LoopSettings(t_end=model.path.s_end, stop_times=model.path.stops,
                              field_interval=params.field_interval, checkpoint_interval=0)
output = gpfem.RunOutput(f"runs/demo-fracture-{preset}")
gpfem.configure_logging(0, comm)  # progress lines on rank 0, as the command line prints them
try:
    result = gpfem.run_time_loop(model, control, settings, output, gpfem.Fracture.COLUMNS)
finally:
    model.close()
h = gpfem.mesh_size(mesh)
# -

# ## Results
# Peak load beside the published value (about 0.701 kN at $u \approx 0.00555$ mm for $\ell = 0.015$), and
# the crack length from the dissipated energy with the discretisation's effective toughness
# $G_c^{eff} = G_c (1 + h / (c_w \ell))$; the damage field at the last load step as a picture.

if comm.rank == 0:
    rows = gpfem.read_history(output.out_dir / "history.csv")
    force = np.array([float(r["reaction_force"]) for r in rows])
    i = int(np.argmax(np.abs(force)))
    gc_eff = params.Gc * (1 + h / (gpfem.c_w(params.model) * params.ell))
    length = float(rows[-1]["dissipated_energy"]) / gc_eff
    print(f"{result['steps']} load steps; peak force {force[i]:.4f} kN at u = {float(rows[i]['load']):.5f}")
    print(f"crack length from the energy: {length:.3f} mm "
          f"(notch tip to the right edge: {params.L - params.notch_length:.3f} mm)")
    png = gpfem.field_png(output.out_dir / result["field_file"], "alpha", output.out_dir / "damage.png",
                          cmap="magma_r", clim=(0.0, 1.0), title="damage")
    print(f"files: history.csv, {result['field_file']}, {png.name} in {output.out_dir}")
