#!/usr/bin/env bash
# Device check on an offline GPU host (shared/gpu-host-notes.md: Ubuntu 24.04, its python3 a Python 3.12
# venv with torch/numpy/pytest and the NVIDIA CUDA 13 wheels, no package index, no GL/X, 16 cores, H100).
# Installs the payload of scripts/pack_gpu_payload.sh (payload/gpfem-gpu-payload.tar.xz: the DOLFINx stack
# without gmsh, the CUDA libpetsc, MPICH, the SENT mesh) into a fresh venv that also sees the host's own
# packages, then runs benchmarks/gpu_check.py: Cahn-Hilliard at 1,039,682 DOFs and the SENT fracture with
# --backend cuda (1 rank) and on 16 CPU ranks, -log_view GPU flops and copies, history differences
# (<= 1e-6), pytest tests/ml on CUDA. Nothing is fetched.
#
#   bash benchmarks/gpu_check.sh                       # on the GPU host (device tool: carry payload)
#   BACKEND=cpu CPU_RANKS=2 SCALE=small SKIP_ML=1 HOST_PY=/path/python3.12 \
#     EXTRA_LD_LIBRARY_PATH=... bash benchmarks/gpu_check.sh   # dry run without a GPU (docs/gpu.md)
#
# Environment: PAYLOAD (default payload/gpfem-gpu-payload.tar.xz), HOST_PY (default python3),
# GPU_CHECK_VENV (default /tmp/gpfem-gpu-venv; reused when present), EXTRA_LD_LIBRARY_PATH, and the
# knobs of benchmarks/gpu_check.py (BACKEND, CPU_RANKS, SCALE, GPU_PC, SKIP_ML, OUT).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PAYLOAD=${PAYLOAD:-payload/gpfem-gpu-payload.tar.xz}
HOST_PY=${HOST_PY:-python3}
VENV=${GPU_CHECK_VENV:-/tmp/gpfem-gpu-venv}
t0=$(date +%s)
say() { echo "[gpu_check $(( $(date +%s) - t0 )) s] $*"; }

host_sp=$("$HOST_PY" -c 'import site; print(site.getsitepackages()[0])')
PY=$VENV/bin/python
if [[ ! -f $PAYLOAD && ! -x $VENV/bin/gpfem ]]; then
  # no payload: an environment that already has the GPU stack (the containers/ image, a native install)
  PY=$HOST_PY
  say "no payload ($PAYLOAD): using $PY and its own gpfem"
elif [[ ! -x $VENV/bin/gpfem ]]; then
  say "installing $PAYLOAD into $VENV (host packages from $host_sp)"
  rm -rf "$VENV"
  "$HOST_PY" -m venv --without-pip "$VENV"
  sp=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  mkdir -p "$VENV/payload"
  xz -dc "$PAYLOAD" | tar -C "$VENV/payload" -xf -
  cp -a "$VENV/payload/site-packages/." "$sp/"
  cp -a "$VENV/payload/data/." "$VENV/"
  mv "$VENV/payload/meshes" "$VENV/meshes"
  cat "$VENV/payload/MANIFEST"
  rm -rf "$VENV/payload"
  # after the payload's own packages: torch, numpy, pytest, ... of the host (its python is a venv, so
  # --system-site-packages would not see them)
  echo "$host_sp" > "$sp/zz-host-site-packages.pth"
  printf '#!%s\nimport sys\nfrom gpfem.cli import main\nsys.exit(main())\n' "$VENV/bin/python" > "$VENV/bin/gpfem"
  chmod +x "$VENV/bin/gpfem"
fi

# The CUDA libraries (cudart, cuBLAS, cuSPARSE, cuSOLVER, cuRAND, cuFFT, nvJitLink) from the host's NVIDIA
# wheels; libcuda.so.1 and libnvidia-ml.so.1 from its driver.
cuda_dirs=$( (find "$host_sp/nvidia" -name 'lib*.so.*' -path '*/lib/*' -printf '%h\n' 2>/dev/null || true) \
  | sort -u | paste -sd:)
LD_LIBRARY_PATH=$(printf '%s\n' "$cuda_dirs" "${EXTRA_LD_LIBRARY_PATH:-}" "${LD_LIBRARY_PATH:-}" | { grep -v '^$' || true; } | paste -sd:)
export LD_LIBRARY_PATH
export PYTHONPATH=$ROOT OMP_NUM_THREADS=1
[[ -f $VENV/meshes/sent.xdmf ]] && export SENT_MESH=${SENT_MESH:-$VENV/meshes/sent.xdmf}
lib=$("$PY" -c 'import dolfinx_solver, pathlib; print(pathlib.Path(dolfinx_solver.__file__).parent / "lib/libpetsc.so.3.25")' 2>/dev/null || true)
# (libmpi.so.12 is loaded first by mpi4py from the environment's lib/; ldd needs to be told)
mpilib=$("$PY" -c 'import sys; print(sys.prefix)')/lib
if [[ -f $lib ]] && LD_LIBRARY_PATH=$mpilib:$LD_LIBRARY_PATH ldd "$lib" | grep -q 'not found'; then
  echo "gpu_check: libraries the CUDA PETSc needs are missing:" >&2
  LD_LIBRARY_PATH=$mpilib:$LD_LIBRARY_PATH ldd "$lib" | grep 'not found' | sort -u >&2
  exit 2
fi
say "installed; running benchmarks/gpu_check.py"
set +e
"$PY" benchmarks/gpu_check.py
rc=$?
set -e
say "done (exit $rc)"
exit $rc
