#!/usr/bin/env bash
# Set up (idempotently) and run the default demo: Cahn-Hilliard spinodal decomposition (PFHub 1 physics)
# on 2 MPI ranks. Leaves history.csv, summary.json, fields.pvd (ParaView/pyvista) and PNGs in runs/demo.
# Extra arguments go to 'gpfem run' (e.g. --set t_end=100).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export VTK_DEFAULT_OPENGL_WINDOW=vtkOSOpenGLRenderWindow
np=${GPFEM_NP:-2}
.venv/bin/mpiexec -n "$np" .venv/bin/gpfem run cahn-hilliard --preset demo --out runs/demo "$@"
echo "Open runs/demo/fields.pvd in ParaView; pictures: runs/demo/c.png, runs/demo/free_energy.png"
