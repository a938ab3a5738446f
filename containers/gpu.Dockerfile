# gpfem GPU image: PETSc built with CUDA and Kokkos (+ MUMPS, SuperLU_dist, ParMETIS, PT-Scotch, HDF5),
# petsc4py against it, DOLFINx 0.11 (C++ and Python) from source against that PETSc, then gpfem.
# The PyPI dolfinx-solver-real wheel is NOT installed here (its PETSc has no GPU backend); gpfem is
# installed with --no-deps and its other pins, and containers/shim provides the `dolfinx_solver` module
# that gpfem imports first (it only loads mpi4py.MPI).
#
#   docker build -f containers/gpu.Dockerfile -t gpfem-gpu:0.1.0 --build-arg CUDA_ARCH=90 .
#   docker run --rm --gpus all gpfem-gpu:0.1.0 gpfem info          # backends: cuda and kokkos true
#   docker run --rm --gpus all gpfem-gpu:0.1.0 bash benchmarks/gpu_check.sh
#
# Build arguments (pinned defaults):
#   CUDA_IMAGE     nvidia/cuda:12.8.1-devel-ubuntu24.04 (Python 3.12, MPICH 4.2 from Ubuntu)
#   CUDA_ARCH      compute capability without the dot: 90 = H100/H200, 80 = A100, 70 = V100
#   PETSC_VERSION  3.25.5 (the PETSc of dolfinx-solver-real 0.11.0.post0)
#   DOLFINX_VERSION 0.11.0, BASIX_VERSION 0.11.0, FFCX_VERSION 0.11.0, UFL_VERSION 2026.1.0
#   MPI4PY_VERSION 4.1.2, NUMPY_VERSION 2.5.5
#   GMSH_VERSION 4.15.2, PYVISTA_VERSION 0.49.1, TORCH_VERSION 2.14.1 (pyproject.toml's pins)
#   MAKE_JOBS      parallel build jobs (default 8)
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-devel-ubuntu24.04
FROM ${CUDA_IMAGE}

ARG CUDA_ARCH=90
ARG PETSC_VERSION=3.25.5
ARG DOLFINX_VERSION=0.11.0
ARG BASIX_VERSION=0.11.0
ARG FFCX_VERSION=0.11.0
ARG UFL_VERSION=2026.1.0
ARG MPI4PY_VERSION=4.1.2
ARG NUMPY_VERSION=2.5.5
ARG GMSH_VERSION=4.15.2
ARG PYVISTA_VERSION=0.49.1
ARG TORCH_VERSION=2.14.1
ARG MAKE_JOBS=8

ENV DEBIAN_FRONTEND=noninteractive \
    PETSC_DIR=/opt/petsc \
    PATH=/opt/venv/bin:/opt/petsc/bin:${PATH} \
    LD_LIBRARY_PATH=/opt/petsc/lib:/opt/dolfinx/lib \
    PKG_CONFIG_PATH=/opt/petsc/lib/pkgconfig:/opt/dolfinx/lib/pkgconfig \
    OMP_NUM_THREADS=1 \
    VTK_DEFAULT_OPENGL_WINDOW=vtkOSOpenGLRenderWindow

# System: compilers, MPICH (ABI-compatible with Cray MPICH / Intel MPI / MVAPICH for hybrid runs), the
# libraries of scripts/setup.sh (gmsh/pyvista GL and X), and DOLFINx's build dependencies.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      build-essential gfortran cmake ninja-build pkg-config git wget ca-certificates bison flex \
      python3-dev python3-venv libmpich-dev mpich libopenblas-dev libpugixml-dev libspdlog-dev \
      libgl1 libglu1-mesa libxcursor1 libxft2 libxinerama1 libgomp1 libosmesa6 \
    && rm -rf /var/lib/apt/lists/*

RUN python3 -m venv /opt/venv && \
    pip install -q --upgrade pip && \
    pip install -q "numpy==${NUMPY_VERSION}" "mpi4py==${MPI4PY_VERSION}" cython setuptools wheel \
      nanobind scikit-build-core

# PETSc with CUDA and Kokkos (Kokkos and Kokkos-Kernels built by PETSc with the CUDA backend).
RUN wget -q https://web.cels.anl.gov/projects/petsc/download/release-snapshots/petsc-${PETSC_VERSION}.tar.gz && \
    tar xzf petsc-${PETSC_VERSION}.tar.gz && cd petsc-${PETSC_VERSION} && \
    ./configure --prefix=/opt/petsc --with-debugging=0 --with-shared-libraries=1 \
      --with-scalar-type=real --with-64-bit-indices=0 --with-fortran-bindings=0 \
      --COPTFLAGS=-O2 --CXXOPTFLAGS=-O2 --FOPTFLAGS=-O2 --CUDAOPTFLAGS=-O2 \
      --with-mpi=1 --with-cuda=1 --with-cuda-arch=${CUDA_ARCH} \
      --download-kokkos --download-kokkos-kernels \
      --download-mumps --download-scalapack --download-superlu_dist \
      --download-metis --download-parmetis --download-ptscotch --download-hdf5 && \
    make -j ${MAKE_JOBS} all && make install && \
    cd .. && rm -rf petsc-${PETSC_VERSION} petsc-${PETSC_VERSION}.tar.gz

# petsc4py against that PETSc.
RUN PETSC_DIR=/opt/petsc pip install -q --no-build-isolation "petsc4py==${PETSC_VERSION}" && \
    python -c "from mpi4py import MPI; from petsc4py import PETSc; \
assert PETSc.Sys.hasExternalPackage('cuda') and PETSc.Sys.hasExternalPackage('kokkos'), 'no GPU backend'"

# DOLFINx from source (C++ library, then Python bindings) against that PETSc.
RUN pip install -q "fenics-basix==${BASIX_VERSION}" "fenics-ffcx==${FFCX_VERSION}" "fenics-ufl==${UFL_VERSION}" && \
    git clone --depth 1 --branch v${DOLFINX_VERSION} https://github.com/FEniCS/dolfinx.git /tmp/dolfinx && \
    cmake -G Ninja -S /tmp/dolfinx/cpp -B /tmp/dolfinx-build -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_INSTALL_PREFIX=/opt/dolfinx -DDOLFINX_ENABLE_PETSC=ON -DDOLFINX_ENABLE_SLEPC=OFF \
      -DDOLFINX_ENABLE_ADIOS2=OFF -DDOLFINX_ENABLE_SCOTCH=ON -DHDF5_ROOT=/opt/petsc \
      -DBasix_DIR=$(python -c "import basix, pathlib; print(pathlib.Path(basix.__file__).parent / 'lib/cmake/basix')") && \
    cmake --build /tmp/dolfinx-build -j ${MAKE_JOBS} && cmake --install /tmp/dolfinx-build && \
    CMAKE_PREFIX_PATH=/opt/dolfinx pip install -q --no-build-isolation /tmp/dolfinx/python && \
    rm -rf /tmp/dolfinx /tmp/dolfinx-build

# gpfem: its pins except the dolfinx-solver-real wheel, plus the shim module.
WORKDIR /opt/gpfem
COPY pyproject.toml README.md ./
COPY scripts ./scripts
COPY gpfem ./gpfem
COPY meshes ./meshes
COPY demos ./demos
COPY benchmarks ./benchmarks
COPY tests ./tests
COPY containers ./containers
RUN pip install -q --no-deps -e . && \
    pip install -q "gmsh==${GMSH_VERSION}" "pyvista==${PYVISTA_VERSION}" matplotlib scipy \
      "torch==${TORCH_VERSION}" scikit-learn pytest ruff && \
    cp -r containers/shim/dolfinx_solver "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/" && \
    python -c "from mpi4py import MPI; import dolfinx, gpfem.fe.solver; print('dolfinx', dolfinx.__version__)" && \
    rm -rf /root/.cache/pip

CMD ["gpfem", "info"]
