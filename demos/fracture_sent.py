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
from pathlib import Path

from mpi4py import MPI

from gpfem.core.log import configure_logging
from gpfem.core.parameters import resolve
from gpfem.models.fracture_energy import critical_stress
from gpfem.models.fracture_run import run
from gpfem.models.fracture_spec import PARAMETERS, PRESETS
from gpfem.registry import RunContext

comm = MPI.COMM_WORLD
CI = os.environ.get("CI", "").lower() == "true"
# -

# ## Parameters
# Miehe's material: $\lambda = 121.15$, $\mu = 80.77$ kN/mm$^2$ (so $E = 210$ kN/mm$^2$, $\nu = 0.3$),
# $G_c = 2.7\cdot10^{-3}$ kN/mm, $\ell = 0.015$ mm, plane strain; the mesh has $h = 0.0075$ mm in the
# band $0.45 \le y \le 0.55$ where the crack runs.

preset = "sent-ci" if CI else "sent"
p = resolve(PARAMETERS, PRESETS[preset], {"png": True})
if comm.rank == 0:
    print({k: p[k] for k in ("E", "nu", "Gc", "ell", "model", "split", "k_res", "load_max")})
    print(f"1D peak stress of the homogeneous AT2 solution: "
          f"{critical_stress(p['model'], p['E'], p['Gc'], p['ell']):.3f} kN/mm^2")

# ## Run
# `run` builds the gmsh mesh, the energy, the two SNES solvers (`gpfem_displacement_`, `gpfem_damage_`)
# and steps the load with increments refined where the crack runs.

out = Path(comm.bcast(str(Path("runs") / f"demo-fracture-{preset}"), root=0))
if comm.rank == 0:
    out.mkdir(parents=True, exist_ok=True)
    (out / "params.json").write_text(
        __import__("json").dumps({"model": "fracture", "preset": preset, "parameters": p, "mesh": None}))
comm.barrier()
configure_logging(0, comm)  # progress lines on rank 0, as the command line prints them
results = run(p, RunContext(out_dir=out, comm=comm, preset=preset))

# ## Results
# Peak load beside the published value (about 0.701 kN at $u \approx 0.00555$ mm for $\ell = 0.015$),
# the crack length from its centre line (the damage ridge) and from the dissipated energy, and the files.

if comm.rank == 0:
    print(f"peak force {results['peak_force']:.4f} kN at u = {results['load_at_peak']:.5f} mm")
    print(f"crack length: centre line {results.get('crack_length_path', 0):.3f} mm, "
          f"energy/Gc_eff {results['crack_length_energy_corrected']:.3f} mm")
    print("files:", ", ".join(results.get("post_files", [])), "in", out)
