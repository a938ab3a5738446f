"""PETSc backends: a missing one is refused with a message naming the recipe; types reach every solver."""

from pathlib import Path

from mpi4py import MPI

import numpy as np
import pytest
import ufl
from dolfinx import fem, mesh
from helpers import ROOT, run_cli
from petsc4py import PETSc

from gpfem.base.errors import BackendError
from gpfem.fe import backend
from gpfem.fe.solver import NonlinearSolver

#: A CPU stand-in for a GPU backend: same code path (kind= for the matrix, VecMPISetGhost vectors).
TYPED = (None, {"vec_type": "mpi", "mat_type": "aijperm"})


def _solve(prefix: str, shape: tuple[int, ...] | None = None) -> tuple[np.ndarray, NonlinearSolver]:
    """-div(grad u) + u^3 = 1 (per component), u = 0 on the boundary; returns owned values and solver."""
    msh = mesh.create_unit_square(MPI.COMM_WORLD, 12, 12)
    V = fem.functionspace(msh, ("Lagrange", 1, shape) if shape else ("Lagrange", 1))
    u, v = fem.Function(V), ufl.TestFunction(V)
    one = fem.Constant(msh, np.ones(shape) if shape else 1.0)
    F = (ufl.inner(ufl.grad(u), ufl.grad(v)) + ufl.inner(ufl.dot(u, u) * u, v) - ufl.inner(one, v)) * ufl.dx
    msh.topology.create_connectivity(1, 2)
    dofs = fem.locate_dofs_topological(V, 1, mesh.exterior_facet_indices(msh.topology))
    zero = np.zeros(shape, dtype=PETSc.ScalarType) if shape else PETSc.ScalarType(0)
    s = NonlinearSolver(F, u, prefix=prefix, bcs=[fem.dirichletbc(zero, dofs, V)])
    s.solve()
    n = V.dofmap.index_map.size_local * V.dofmap.index_map_bs
    return u.x.array[:n].copy(), s


def test_missing_backend_names_existing_recipes():
    for name in ("cuda", "kokkos"):
        if backend.available_backends()[name]:
            pytest.skip(f"this PETSc has {name}")
        with pytest.raises(BackendError) as e:
            backend.check_backend(name)
        msg = str(e.value)
        assert f"needs a PETSc configured with {name}" in msg
        for path in ("containers/gpu.Dockerfile", "containers/gpfem-gpu.def"):
            assert path in msg and (ROOT / path).is_file()
    with pytest.raises(BackendError, match="unknown backend 'opencl'"):
        backend.set_active_backend("opencl")
    assert backend.active_backend() == "cpu"


def test_backend_options_for_every_prefix():
    opts = backend.backend_options("cuda", ["gpfem_displacement_", "gpfem_damage_"])
    assert opts["gpfem_damage_A_mat_type"] == "aijcusparse"
    assert opts["gpfem_displacement_b_vec_type"] == "cuda" and opts["gpfem_displacement_x_vec_type"] == "cuda"
    assert backend.backend_options("kokkos") == {"vec_type": "kokkos", "mat_type": "aijkokkos"}
    assert backend.backend_options("cpu", ["gpfem_ch_"]) == {}


@pytest.mark.parametrize("shape", [None, (2,)])
def test_backend_types_reach_the_solver(monkeypatch, shape):
    ref, s = _solve("gpfem_bk_ref_", shape)
    assert s.problem.A.getType() in ("seqaij", "mpiaij")
    s.close()
    monkeypatch.setitem(backend.BACKENDS, "typed", TYPED)
    monkeypatch.setattr(backend, "_active", "typed")
    got, s = _solve("gpfem_bk_typed_", shape)
    assert s.problem.A.getType().endswith("aijperm")
    assert s.problem.b.getType() == "mpi" and s.problem.x.getType() == "mpi"
    assert s.problem.solver.getFunction()[0].handle == s.problem.b.handle
    s.close()
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)


def test_prefix_option_wins_over_backend():
    opts = PETSc.Options()
    opts["gpfem_bk_opt_A_mat_type"] = "baij"
    try:
        _, s = _solve("gpfem_bk_opt_")
        assert s.problem.A.getType().endswith("baij")
        s.close()
    finally:
        del opts["gpfem_bk_opt_A_mat_type"]


def test_config_key_backend(tmp_path: Path):
    cfg = tmp_path / "gpu.toml"
    cfg.write_text('backend = "cuda"\n[parameters]\nkappa = 1.5\n')
    if backend.available_backends()["cuda"]:
        pytest.skip("this PETSc has cuda")
    p = run_cli(["run", "cahn-hilliard", "--config", str(cfg), "--out", str(tmp_path / "o")], check=False,
                timeout=120)
    assert p.returncode == 2 and "backend 'cuda' needs a PETSc configured with cuda" in p.stderr
    assert "containers/gpu.Dockerfile" in p.stderr and not (tmp_path / "o").exists()


def _solve_bounded(prefix: str) -> np.ndarray:
    """-lap u = 1, u = 0 on the boundary, 0 <= u <= 0.03 (the upper bound is active in the middle)."""
    msh = mesh.create_unit_square(MPI.COMM_WORLD, 16, 16)
    V = fem.functionspace(msh, ("Lagrange", 1))
    u, v = fem.Function(V), ufl.TestFunction(V)
    F = (ufl.inner(ufl.grad(u), ufl.grad(v)) - v) * ufl.dx
    msh.topology.create_connectivity(1, 2)
    dofs = fem.locate_dofs_topological(V, 1, mesh.exterior_facet_indices(msh.topology))
    lo, hi = fem.Function(V), fem.Function(V)
    hi.x.array[:] = 0.03
    s = NonlinearSolver(F, u, prefix=prefix, bcs=[fem.dirichletbc(PETSc.ScalarType(0), dofs, V)],
                        bounds=(lo, hi))
    s.solve()
    n = V.dofmap.index_map.size_local
    out = u.x.array[:n].copy()
    s.close()
    return out


def test_bounds_with_backend_vectors(monkeypatch):
    """Variable bounds become vectors of the backend's type (the VI kernels combine them with x)."""
    ref = _solve_bounded("gpfem_bk_vi_ref_")
    assert ref.max() == pytest.approx(0.03) and (ref >= -1e-14).all()
    monkeypatch.setitem(backend.BACKENDS, "typed", TYPED)
    monkeypatch.setattr(backend, "_active", "typed")
    got = _solve_bounded("gpfem_bk_vi_typed_")
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)
