#!/usr/bin/env bash
# pytest on every MPI rank; only rank 0 prints (the others' output would interleave).
cd "$(dirname "$0")/.."
rank=${PMI_RANK:-${OMPI_COMM_WORLD_RANK:-0}}
if [[ $rank == 0 ]]; then
  exec .venv/bin/python -m pytest -q "$@"
else
  exec .venv/bin/python -m pytest -q "$@" >/dev/null 2>&1
fi
