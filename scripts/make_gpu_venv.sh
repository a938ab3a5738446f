#!/usr/bin/env bash
# Make $GPU_VENV (default .venv-gpu): an environment that is $VENV (default .venv) in every package except
# that the dolfinx-solver-real stack loads $LIBPETSC (a CUDA PETSc 3.25.5) instead of the wheel's
# libpetsc.so.3.25. Called by scripts/build_gpu_petsc.sh; safe to re-run (the folder is made anew).
#
# Why a separate environment and not LD_LIBRARY_PATH: petsc4py's and DOLFINx's extensions carry an RPATH to
# the wheel's dolfinx_solver/lib, which the loader searches before LD_LIBRARY_PATH. LD_PRELOAD would work
# but would also load PETSc, CUDA and MPI into every child process (the C compiler of the form JIT, mpiexec).
# Here the packages whose binaries load libpetsc (dolfinx_solver, petsc4py, slepc4py, dolfinx) are copied
# beside each other so their $ORIGIN-relative RPATHs land in a lib folder holding the CUDA library; every
# other package is a symbolic link to $VENV's, so nothing is installed twice.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=$(cd "${VENV:-.venv}" && pwd -P)
GPU_VENV=${GPU_VENV:-.venv-gpu}
: "${LIBPETSC:?path of the CUDA libpetsc.so.3.25.x}"
# CUDA_LIB: the build's toolkit lib folder; STUBS: Debian's driver libraries; PATCHELF: patchelf

base=$(sed -n 's/^executable = //p' "$VENV/pyvenv.cfg")
[[ -x $base ]] || base=$(sed -n 's/^home = //p' "$VENV/pyvenv.cfg")/python3
pyver=$("$VENV/bin/python" -c 'import sys; print(f"python{sys.version_info[0]}.{sys.version_info[1]}")')
src_sp=$VENV/lib/$pyver/site-packages

rm -rf "$GPU_VENV"
"$base" -m venv --without-pip "$GPU_VENV"
GPU_VENV=$(cd "$GPU_VENV" && pwd)
dst_sp=$GPU_VENV/lib/$pyver/site-packages

COPIED=(dolfinx_solver petsc4py slepc4py dolfinx)
for entry in "$src_sp"/*; do
  name=$(basename "$entry")
  [[ " ${COPIED[*]} " == *" $name "* ]] && continue
  ln -s "$entry" "$dst_sp/$name"
done
for name in "${COPIED[@]}"; do
  cp -a "$src_sp/$name" "$dst_sp/$name"
done
# dolfinx_solver/lib: the wheel's libraries as links, but real copies of the ones that load libpetsc by
# soname through their own RPATH (libdolfinx, libslepc), and the CUDA libpetsc itself.
lib=$dst_sp/dolfinx_solver/lib
for f in "$lib"/*; do
  b=$(basename "$f")
  case $b in
    libpetsc.so.*) rm -f "$f" ;;
    libdolfinx.so.*|libslepc.so.*) ;;
    *) rm -f "$f"; ln -s "$src_sp/dolfinx_solver/lib/$b" "$f" ;;
  esac
done
# A copy (not a link) whose RUNPATH starts at its own folder: the wheel's libraries (openblas) and, on a
# machine without a driver, the link stubs below; then the CUDA toolkit folder of the build.
cp "$LIBPETSC" "$lib/libpetsc.so.3.25"
"${PATCHELF:-patchelf}" --set-rpath "\$ORIGIN:\$ORIGIN/../../dolfinx_solver_real.libs:${CUDA_LIB:?}" \
  "$lib/libpetsc.so.3.25"
# The CUDA PETSc's driver link stubs (Debian's libcuda1/libnvidia-ml1) on a machine without a driver: then
# the library loads, CPU types work and --backend cuda says there is no usable device.
if [[ -n ${STUBS:-} ]] && ! ldconfig -p | grep -q 'libcuda.so.1 '; then
  ln -s "$STUBS/libcuda.so.1" "$lib/libcuda.so.1"
  ln -s "$STUBS/libnvidia-ml.so.1" "$lib/libnvidia-ml.so.1"
fi

# lib/: MPICH (mpi4py dlopens libmpi.so.12 from the environment's prefix) and gmsh.
for f in "$VENV"/lib/*; do
  [[ $(basename "$f") == python* ]] && continue
  ln -s "$f" "$GPU_VENV/lib/"
done
for f in "$VENV"/include/*; do
  [[ -e $GPU_VENV/include/$(basename "$f") ]] || ln -s "$f" "$GPU_VENV/include/"
done
# bin/: console scripts re-pointed at this environment's python; binaries (mpiexec, ...) as links.
for f in "$VENV"/bin/*; do
  b=$(basename "$f")
  [[ -e $GPU_VENV/bin/$b || $b == activate* || $b == Activate.ps1 ]] && continue
  if head -c 64 "$f" | head -1 | grep -q "^#!$VENV/bin/python\|^#!.*/\.venv/bin/python"; then
    { echo "#!$GPU_VENV/bin/python"; tail -n +2 "$f"; } > "$GPU_VENV/bin/$b"
    chmod +x "$GPU_VENV/bin/$b"
  else
    ln -s "$f" "$GPU_VENV/bin/$b"
  fi
done
echo "GPFEM_PETSC=$(readlink -f "$LIBPETSC")" > "$GPU_VENV/gpfem-petsc.txt"
"$GPU_VENV/bin/python" - <<'PY'
import dolfinx_solver  # noqa: F401
from petsc4py import PETSc

path = next(ln.split()[-1] for ln in open("/proc/self/maps") if "libpetsc.so" in ln)
print(f"{__import__('sys').prefix}: libpetsc {path}, cuda {PETSc.Sys.hasExternalPackage('cuda')}")
PY
