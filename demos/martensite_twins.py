# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: light
# ---

# # Twinned martensite from a Ginzburg-Landau energy
#
# A square-to-rectangle transformation: two order parameters $\eta_1, \eta_2$ (one per rectangular
# variant), the total free energy
#
# $$ F[\eta, u] = \int_\Omega \frac{A_2}{2}\sum_p \eta_p^2 + \frac{A_3}{3}\sum_p \eta_p^3
#    + \frac{A_4}{4}\Big(\sum_p \eta_p^2\Big)^2 + \sum_p \frac{\kappa}{2}|\nabla\eta_p|^2
#    + \frac12(\varepsilon(u) - \varepsilon_t) : C : (\varepsilon(u) - \varepsilon_t)\,dx,
#    \qquad \varepsilon_t = \eta_1\,\mathrm{diag}(0.1, -0.1) + \eta_2\,\mathrm{diag}(-0.1, 0.1), $$
#
# and the time-dependent Ginzburg-Landau flow $\partial_t \eta_p = -L\,\delta F/\delta\eta_p$ with
# mechanical equilibrium $\delta F / \delta u = 0$ at every step (one monolithic backward-Euler Newton solve).
# The twin-wall energy is the gradient penalty $\frac{\kappa}{2}|\nabla\eta_p|^2$, the same term that gives
# the Cahn-Hilliard interface energy and the phase-field crack its length scale. Elastic compatibility of the
# two Bain strains, whose difference $\mathrm{diag}(0.2, -0.2)$ is a symmetrised dyad only for normals
# $(1, \pm 1)/\sqrt 2$, orients the walls at $\pm 45°$.
#
# Run it with `python demos/martensite_twins.py` or `mpiexec -n 2 python demos/martensite_twins.py`; with
# `CI=true` it runs the small 40x40 case.

# ## Parameters

# +
import os

from mpi4py import MPI

import gpfem

CI = os.environ.get("CI", "").lower() == "true"
comm = MPI.COMM_WORLD
preset = "ci" if CI else "twins-2d"
params = gpfem.MartensiteParameters.from_preset(preset, png=True, field_interval=0)
if CI:
    params = params.replace(t_end=10.0)
for key in ("landau", "A2", "A3", "A4", "kappa", "mobility", "C11", "C12", "C44", "bain_axial",
            "bain_transverse", "Lx", "nx", "t_end"):
    if comm.rank == 0:
        print(f"{key:>16} = {getattr(params, key)}")
# -

# ## Run
#
# The mesh, the model (energy and the `gpfem_gl_` SNES solver) and the shared adaptive time loop, which writes
# `history.csv`, the field series and checkpoints to the `RunOutput` folder. The grid `(nx, ny, Lx, Ly)`
# indexes the initial noise by grid position, the same on any number of ranks.

# +
mesh = gpfem.rectangle(params.Lx, params.Ly, params.nx, params.ny, comm=comm,
                       quadrilateral=params.cell == "quadrilateral")
model = gpfem.Martensite(mesh, params, grid=(params.nx, params.ny, params.Lx, params.Ly))
output = gpfem.RunOutput(f"runs/demo-martensite-{preset}")
gpfem.configure_logging(0, comm)  # progress lines on rank 0, as the command line prints them
try:
    result = gpfem.run_time_loop(model, gpfem.step_control(params), gpfem.loop_settings(params), output,
                                 gpfem.Martensite.columns(model.n))
    final, orientation = model.values, model.orientation()
finally:
    model.close()
pngs = gpfem.Martensite.post(output.out_dir, comm, eta_star=model.eta_star)
# -

# ## What formed
#
# The wall orientation is measured from the field: with $g = \nabla(\eta_1 - \eta_2)$, the
# $|g|^4$-weighted mean of $\cos 4\theta$ is $-1$ when every wall lies at $\pm 45°$ and $+1$ when every
# wall is axis-aligned.

if comm.rank == 0:
    print(f"steps {result['steps']}, final energy {final['total_energy']:.4g} "
          f"(landau {final['landau_energy']:.4g}, walls {final['gradient_energy']:.4g}, "
          f"elastic {final['elastic_energy']:.4g})")
    print(f"variant fractions {final['variant_fraction_1']:.3f} / {final['variant_fraction_2']:.3f}")
    print(f"wall normal angle (mod 90) {orientation['angle_deg']:.2f} deg, "
          f"<cos 4 theta> = {orientation['cos4']:.3f}")
    print("pictures:", ", ".join(pngs), "in", output.out_dir)
