# gpfem CPU image: exactly the README's route (scripts/setup.sh: apt libraries, .venv, pinned wheels,
# including the dolfinx-solver-real wheel with its PETSc 3.25 + MUMPS, SuperLU_dist, GAMG, HDF5).
#
#   docker build -f containers/cpu.Dockerfile -t gpfem-cpu:0.1.0 .
#   docker run --rm gpfem-cpu:0.1.0 gpfem info
#   docker run --rm -v $PWD/runs:/opt/gpfem/runs gpfem-cpu:0.1.0 \
#       mpiexec -n 2 gpfem run cahn-hilliard --preset ci --out runs/ci
#
# Build arguments:
#   PYTHON_IMAGE   base image with Python >= 3.12 and apt (default python:3.13-slim-bookworm)
#   GPFEM_EXTRAS   pip extras passed to scripts/setup.sh (default "ml,test"; "test" skips torch, ~5 GB)
ARG PYTHON_IMAGE=python:3.13-slim-bookworm
FROM ${PYTHON_IMAGE}

ARG GPFEM_EXTRAS=ml,test
ENV GPFEM_EXTRAS=${GPFEM_EXTRAS} \
    DEBIAN_FRONTEND=noninteractive \
    OMP_NUM_THREADS=1 \
    VTK_DEFAULT_OPENGL_WINDOW=vtkOSOpenGLRenderWindow

WORKDIR /opt/gpfem
COPY pyproject.toml README.md ./
COPY scripts ./scripts
COPY gpfem ./gpfem
COPY meshes ./meshes
COPY demos ./demos
COPY benchmarks ./benchmarks
COPY tests ./tests

RUN bash scripts/setup.sh && rm -rf /root/.cache/pip /var/lib/apt/lists/*

ENV PATH=/opt/gpfem/.venv/bin:${PATH}
CMD ["gpfem", "info"]
