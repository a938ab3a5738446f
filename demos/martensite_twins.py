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
from pathlib import Path

from mpi4py import MPI

from gpfem import registry
from gpfem.core.parameters import resolve
from gpfem.registry import RunContext

CI = os.environ.get("CI", "").lower() == "true"
spec = registry.get("martensite")
preset = "ci" if CI else "twins-2d"
_, overrides = spec.preset(preset)
overrides.update(png=True, field_interval=0)
if CI:
    overrides.update(t_end=10.0)
params = resolve(spec.parameters, overrides)
for key in ("landau", "A2", "A3", "A4", "kappa", "mobility", "C11", "C12", "C44", "bain_axial",
            "bain_transverse", "Lx", "nx", "t_end"):
    if MPI.COMM_WORLD.rank == 0:
        print(f"{key:>16} = {params[key]}")
# -

# ## Run
#
# `run` builds the mesh, the energy, the `gpfem_gl_` SNES solver and hands the model to the shared adaptive
# time loop, which writes `history.csv`, the field series and checkpoints.

# +
from gpfem.core.log import configure_logging  # noqa: E402
from gpfem.models.martensite_run import run  # noqa: E402

comm = MPI.COMM_WORLD
out = Path(comm.bcast(str(Path("runs") / f"demo-martensite-{preset}"), root=0))
if comm.rank == 0:
    out.mkdir(parents=True, exist_ok=True)
comm.barrier()
configure_logging(0, comm)  # progress lines on rank 0, as the command line prints them
summary = run(params, RunContext(out_dir=out, comm=comm, preset=preset))
# -

# ## What formed
#
# The wall orientation is measured from the field: with $g = \nabla(\eta_1 - \eta_2)$, the
# $|g|^4$-weighted mean of $\cos 4\theta$ is $-1$ when every wall lies at $\pm 45°$ and $+1$ when every
# wall is axis-aligned.

if comm.rank == 0:
    o = summary["wall_orientation"]
    f = summary["final"]
    print(f"steps {summary['steps']}, final energy {f['total_energy']:.4g} "
          f"(landau {f['landau_energy']:.4g}, walls {f['gradient_energy']:.4g}, "
          f"elastic {f['elastic_energy']:.4g})")
    print(f"variant fractions {f['variant_fraction_1']:.3f} / {f['variant_fraction_2']:.3f}")
    print(f"wall normal angle (mod 90) {o['angle_deg']:.2f} deg, <cos 4 theta> = {o['cos4']:.3f}")
    print("variant map:", out / "variant_map.png")
