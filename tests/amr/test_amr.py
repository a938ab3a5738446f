"""gpfem.amr invariants, serial (the same checks run on 2 ranks in test_amr_mpi.py)."""

import amr_checks as chk
import numpy as np
import pytest

from gpfem.amr import AmrLimits, fracture_cells
from gpfem.base.errors import ParameterError


@pytest.mark.parametrize("name", chk.SHARED_CHECKS)
def test_invariant(name):
    getattr(chk, f"check_{name}")()


def test_store_round_trip(tmp_path):
    chk.check_store_round_trip(tmp_path / "ck.npz")


def test_series_with_changing_mesh(tmp_path):
    chk.check_series_with_changing_mesh(tmp_path)


def test_cell_sizes_and_midpoint_values():
    import ufl

    from gpfem.amr import cell_expression, cell_sizes
    from gpfem.mesh import rectangle

    b = rectangle(2.0, 1.0, 8, 4)  # right triangles with legs 0.25
    assert np.allclose(cell_sizes(b.mesh), 0.25, rtol=1e-12)
    x = ufl.SpatialCoordinate(b.mesh)
    vals = cell_expression(x[0] + 2 * x[1], b.mesh)
    assert np.allclose(vals, chk.owned_midpoints(b.mesh) @ np.array([1.0, 2.0]))


def test_fracture_rule_matches_the_onset_of_damage():
    """psi_c = Gc/(c_w ell): AT1 damage starts at psi = psi_c/2, which is sigma_c^2/(2E) of the bar."""
    from dolfinx import fem

    from gpfem.mesh import rectangle
    from gpfem.models.fracture_energy import c_w, critical_stress

    E, Gc, ell = 1.0, 1.0, 0.05
    sigma_c = critical_stress("AT1", E, Gc, ell)
    psi_onset = sigma_c**2 / (2 * E)
    assert psi_onset == pytest.approx(0.5 * Gc / (c_w("AT1") * ell), rel=1e-12)
    b = rectangle(1.0, 1.0, 2, 2)
    alpha = fem.Function(fem.functionspace(b.mesh, ("Lagrange", 1)))
    n = b.mesh.topology.index_map(2).size_local
    psi = np.full(n, psi_onset)
    psi[0] = 0.2 * psi_onset
    # fraction 0.25 of psi_c is half the onset: every cell but the low one is ahead of a crack
    marked = fracture_cells(alpha, psi, Gc, ell, c_w("AT1"), alpha_threshold=0.05, psi_fraction=0.25)
    assert marked.tolist() == [False] + [True] * (n - 1)
    alpha.x.array[alpha.function_space.dofmap.list[0]] = 0.06  # damage on cell 0
    marked = fracture_cells(alpha, psi, Gc, ell, c_w("AT1"), alpha_threshold=0.05, psi_fraction=0.25)
    assert marked.all()


def test_bad_limits():
    with pytest.raises(ParameterError, match="amr_max_levels"):
        AmrLimits(max_levels=-1)
    with pytest.raises(ParameterError, match="amr_h_min"):
        AmrLimits(h_min=-1.0)
