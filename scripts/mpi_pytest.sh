#!/usr/bin/env bash
# pytest on every MPI rank; only rank 0 prints (the others' output would interleave).
# GPFEM_PYTHON picks the environment (default .venv; .venv-gpu for the CUDA PETSc, docs/gpu.md).
cd "$(dirname "$0")/.."
PY=${GPFEM_PYTHON:-.venv/bin/python}
rank=${PMI_RANK:-${OMPI_COMM_WORLD_RANK:-0}}
if [[ $rank == 0 ]]; then
  exec "$PY" -m pytest -q "$@"
else
  exec "$PY" -m pytest -q "$@" >/dev/null 2>&1
fi
