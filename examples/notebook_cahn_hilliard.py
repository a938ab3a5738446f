# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: light
#       format_version: '1.5'
# ---

# # Cahn-Hilliard in a notebook: a run kept in memory, plotted with pyvista
#
# Open this file as a notebook (`jupytext --to notebook examples/notebook_cahn_hilliard.py`, or
# JupyterLab with jupytext), or run it as a script:
#
# ```
# .venv/bin/python examples/notebook_cahn_hilliard.py
# ```
#
# Nothing here needs a run folder: the parameters are a dataclass, the mesh is a plain DOLFINx mesh, and
# the time loop returns the history as numpy arrays. In a notebook the pictures appear inline; as a script
# (or with no display) they are rendered off screen to PNG files in `runs/notebook_cahn_hilliard/`.
# `CI=true` makes the run short.

# +
import os
import sys
from pathlib import Path

from mpi4py import MPI

import numpy as np
from dolfinx import mesh as dmesh
from dolfinx import plot

import gpfem

IN_NOTEBOOK = "ipykernel" in sys.modules
# Linux without an X or Wayland display (a server, a container, CI): VTK draws with OSMesa, off screen,
# as gpfem.io.plots does for the pictures of `gpfem run`.
DISPLAY = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
HEADLESS = sys.platform.startswith("linux") and not DISPLAY
if HEADLESS:
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")
PICTURES = Path("runs/notebook_cahn_hilliard")
CI = os.environ.get("CI", "").lower() == "true"
# -

# ## Parameters
#
# `CahnHilliardParameters` has one typed field per parameter of `gpfem run cahn-hilliard` (`gpfem list
# cahn-hilliard` shows them), with the same defaults and the same checks: a bad value is refused at once,
# naming the field.

# +
params = gpfem.CahnHilliardParameters(
    initial="random", c0=0.5, epsilon=0.05, Lx=64.0, Ly=64.0, nx=32 if CI else 64, ny=32 if CI else 64,
    t_end=20.0 if CI else 200.0, dt=0.05, dt_max=5.0,
)
print(f"kappa = {params.kappa}, mobility = {params.mobility}, t_end = {params.t_end}")
try:
    params.replace(mobility=-1.0)
except gpfem.ParameterError as e:
    print("refused:", e)
# -

# ## Mesh, model and run
#
# Any `dolfinx.mesh.Mesh` works; its boundary is no-flux (the natural condition), so no boundary groups are
# needed. With no output object, `run_time_loop` writes no file and returns `result["history"]`, one
# array per history column.

# +
msh = dmesh.create_rectangle(MPI.COMM_SELF, [[0.0, 0.0], [params.Lx, params.Ly]], [params.nx, params.ny])
model = gpfem.CahnHilliard(msh, params)
try:
    result = gpfem.run_time_loop(model, gpfem.step_control(params), gpfem.loop_settings(params))
finally:
    model.close()  # the PETSc objects; the fields stay readable
history = result["history"]
F, mass = history["free_energy"], history["mass"]
print(f"{result['steps']} steps to t = {result['time']:g}; F {F[0]:.4f} -> {F[-1]:.4f} "
      f"(never rose: {bool(np.all(np.diff(F) <= 1e-12 * abs(F[0])))}); "
      f"mass kept to {np.max(np.abs(mass / mass[0] - 1)):.1e}")
# -

# ## The free energy
#
# The gradient flow lowers $F$ at every step: slowly while the noise is sorted by wavelength, fast while the
# phases separate, slowly again while the domains coarsen.

# +
import matplotlib  # noqa: E402

if not IN_NOTEBOOK:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

fig, ax = plt.subplots(figsize=(5, 3.2))
ax.semilogx(history["time"][1:], F[1:], marker=".")
ax.set(xlabel="time", ylabel="free energy", title="Cahn-Hilliard free energy")
fig.tight_layout()
if IN_NOTEBOOK:
    plt.show()
else:
    PICTURES.mkdir(parents=True, exist_ok=True)
    fig.savefig(PICTURES / "free_energy.png", dpi=120)
    print("wrote", PICTURES / "free_energy.png")
# -

# ## The composition, with pyvista
#
# `dolfinx.plot.vtk_mesh` turns the P1 space of the output function `c` into a VTK grid; its values are the
# function's degrees of freedom (this notebook runs on one process).

# +
import pyvista as pv  # noqa: E402

pv.OFF_SCREEN = HEADLESS or not IN_NOTEBOOK
model.update_outputs()
c = model.c_out
grid = pv.UnstructuredGrid(*plot.vtk_mesh(c.function_space))
grid.point_data["c"] = c.x.array.real
plotter = pv.Plotter(off_screen=pv.OFF_SCREEN, window_size=(600, 520))
plotter.add_mesh(grid, scalars="c", cmap="RdBu_r", clim=(params.c_alpha, params.c_beta))
plotter.add_text(f"c at t = {result['time']:g}", font_size=12)
plotter.view_xy()
if IN_NOTEBOOK:
    plotter.show(jupyter_backend="static")
else:
    PICTURES.mkdir(parents=True, exist_ok=True)
    plotter.screenshot(PICTURES / "c.png")
    plotter.close()
    print("wrote", PICTURES / "c.png")
print(f"c in [{c.x.array.min():.3f}, {c.x.array.max():.3f}]; wells at {params.c_alpha}, {params.c_beta}")
# -
