"""Backend vector/matrix types under MPI: the retyped ghosted vectors give the same solution."""

import numpy as np
import pytest
from test_backend import TYPED, _solve

from gpfem.fe import backend

pytestmark = pytest.mark.mpi


@pytest.mark.parametrize("shape", [None, (2,)])
def test_typed_backend_parallel(monkeypatch, shape):
    ref, s = _solve("gpfem_bkmpi_ref_", shape)
    s.close()
    monkeypatch.setitem(backend.BACKENDS, "typed", TYPED)
    monkeypatch.setattr(backend, "_active", "typed")
    got, s = _solve("gpfem_bkmpi_typed_", shape)
    assert s.problem.A.getType().endswith("aijperm") and s.problem.b.getType() == "mpi"
    s.close()
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)
