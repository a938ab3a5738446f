#!/usr/bin/env bash
# Set up (idempotently) and run the whole test suite: the type check (mypy; an error fails the run), the
# MPI-marked tests under mpiexec -n 2, then the serial suite. Extra arguments go to the serial pytest run (e.g. -k cahn, -x).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export VTK_DEFAULT_OPENGL_WINDOW=vtkOSOpenGLRenderWindow

echo "== type check: mypy (gpfem/, settings in pyproject.toml; the baseline is zero errors) =="
.venv/bin/python -m mypy

echo "== MPI tests: mpiexec -n 2 pytest -m mpi =="
set +e
.venv/bin/mpiexec -n 2 bash scripts/mpi_pytest.sh -m mpi tests
rc=$?
set -e
# pytest exits 5 when no test was collected; anything else non-zero is a failure.
if [[ $rc -ne 0 && $rc -ne 5 ]]; then
  echo "MPI tests failed (exit $rc)" >&2
  exit "$rc"
fi

echo "== serial tests: pytest -m 'not mpi' =="
exec .venv/bin/python -m pytest -m "not mpi" tests --durations=15 "$@"
