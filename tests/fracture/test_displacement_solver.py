"""The displacement solve: rigid-body modes, CG + GAMG against MUMPS, the MUMPS fallback, the size default."""

from __future__ import annotations

import numpy as np
import pytest

from gpfem.app.parameters import resolve
from gpfem.models.fracture_spec import PARAMETERS, PRESETS


def _elasticity_matrix(msh):
    """The assembled stiffness of linear elasticity (E = 1, nu = 0.3), no boundary conditions, and V."""
    import basix.ufl
    import ufl
    from dolfinx import fem
    from dolfinx.fem.petsc import assemble_matrix

    gdim = msh.geometry.dim
    V = fem.functionspace(msh, basix.ufl.element("Lagrange", msh.basix_cell(), 1, shape=(gdim,)))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)

    def eps(w):
        return ufl.sym(ufl.grad(w))

    a = (2 * 0.385 * ufl.inner(eps(u), eps(v)) + 0.577 * ufl.tr(eps(u)) * ufl.tr(eps(v))) * ufl.dx
    A = assemble_matrix(fem.form(a))
    A.assemble()
    return A, V


@pytest.mark.parametrize("gdim", [2, 3])
def test_rigid_body_modes_span_the_kernel(gdim):
    """3 (2D) / 6 (3D) orthonormal modes, each in the kernel of the elasticity matrix (to round-off)."""
    _check_modes(gdim)


@pytest.mark.mpi
@pytest.mark.parametrize("gdim", [2, 3])
def test_rigid_body_modes_span_the_kernel_in_parallel(gdim):
    """The same on a mesh distributed over the ranks."""
    _check_modes(gdim)


def _check_modes(gdim: int) -> None:
    from mpi4py import MPI

    from dolfinx import mesh

    from gpfem.fe.nullspace import RigidBodyModes

    comm = MPI.COMM_WORLD
    msh = mesh.create_unit_square(comm, 6, 5) if gdim == 2 else mesh.create_unit_cube(comm, 3, 3, 2)
    A, V = _elasticity_matrix(msh)
    modes = RigidBodyModes(V)
    try:
        assert modes.size == (3 if gdim == 2 else 6)
        vecs = modes.nullspace.getVecs()
        gram = np.array([[x.dot(y) for y in vecs] for x in vecs])
        assert np.abs(gram - np.eye(len(vecs))).max() < 1e-12
        scale = A.norm()
        r = A.createVecLeft()
        for x in vecs:
            A.mult(x, r)
            assert r.norm() < 1e-12 * scale
        assert modes.nullspace.test(A)
        # a non-rigid field is not in the kernel (the test can fail)
        y = vecs[0].copy()
        y.setArray(np.random.default_rng(comm.rank).random(y.getLocalSize()))
        A.mult(y, r)
        assert r.norm() > 1e-3 * scale * y.norm() / np.sqrt(y.getSize())
        r.destroy()
        y.destroy()
    finally:
        modes.destroy()
        A.destroy()


def _sent_steps(solver: str, loads=(0.002, 0.004, 0.005), options: dict | None = None) -> dict:
    """The coarse SENT in-process at a few fixed loads: forces, damage, what the displacement solve did."""
    from mpi4py import MPI

    from petsc4py import PETSc

    from gpfem.app.registry import RunContext
    from gpfem.models.fracture import Fracture
    from gpfem.models.fracture_run import build_mesh

    p = resolve(PARAMETERS, PRESETS["sent-ci"], {"u_solver": solver, "crack_track": False,
                                                 "load_path": [loads[-1]]})
    bundle = build_mesh(p, RunContext(out_dir=".", comm=MPI.COMM_WORLD))
    db = PETSc.Options()
    for k, v in (options or {}).items():
        db[f"gpfem_displacement_{k}"] = v
    try:
        m = Fracture(bundle, p)
    finally:
        for k in options or {}:
            db.delValue(f"gpfem_displacement_{k}")
    try:
        forces, s = [], 0.0
        for load in loads:
            res = m.try_step(s, load - s)
            assert res.ok, res.reason
            m.accept(load, load - s, res)
            s = load
            forces.append(m.values["reaction_force"])
        su = m.solver_u
        ksp = su.snes.getKSP()
        return {"forces": np.array(forces), "alpha": m.alpha.x.array.copy(), "fell_back": su.fell_back,
                "used": f"{ksp.getType()}+{ksp.getPC().getType()}",
                "ksp_per_solve": su.counts["ksp_iterations"] / su.counts["solves"],
                "has_nns": bool(su.problem.A.getNearNullSpace())}
    finally:
        m.close()


def _gamg_equals_direct():
    d, g = _sent_steps("direct"), _sent_steps("gamg")
    assert d["used"] == "preonly+cholesky" and not d["has_nns"]
    assert g["used"] == "cg+gamg" and g["has_nns"] and not g["fell_back"]
    # measured: 12 CG iterations per solve with the near-nullspace (rtol 1e-8)
    assert g["ksp_per_solve"] < 30
    assert np.abs(g["forces"] - d["forces"]).max() < 1e-7 * d["forces"].max()
    assert np.abs(g["alpha"] - d["alpha"]).max() < 1e-6


def test_gamg_equals_direct_on_coarse_sent():
    """CG + GAMG with the rigid-body modes gives MUMPS's forces (1e-7 of the peak) and damage (1e-6)."""
    _gamg_equals_direct()


@pytest.mark.mpi
def test_gamg_equals_direct_on_coarse_sent_in_parallel():
    """The same on every rank of COMM_WORLD (modes of a distributed space)."""
    _gamg_equals_direct()


def test_failing_gamg_falls_back_to_mumps():
    """CG limited to 2 iterations fails every solve: each is redone with MUMPS (same results), and after
    three failures in a row the solver keeps MUMPS."""
    d = _sent_steps("direct", loads=(0.002, 0.004))
    g = _sent_steps("gamg", loads=(0.002, 0.004), options={"ksp_max_it": 2})
    assert g["fell_back"] and g["used"] == "preonly+lu"
    assert np.abs(g["forces"] - d["forces"]).max() < 1e-10 * d["forces"].max()


def test_auto_picks_gamg_by_size():
    """u_solver=auto: MUMPS below the measured threshold, CG + GAMG from it; direct/gamg force the choice."""
    import dolfinx_solver  # noqa: F401  (loads libmpi before petsc4py)

    from gpfem.fe.solver_defaults import DISPLACEMENT_KRYLOV_FROM, size_default

    pre = "gpfem_displacement_"
    n = DISPLACEMENT_KRYLOV_FROM[3]
    assert size_default(pre, n - 1, {}, threshold=n) == {}
    assert size_default(pre, n, {}, threshold=n)["pc_type"] == "gamg"
    assert size_default(pre, n, {}, threshold=DISPLACEMENT_KRYLOV_FROM[2]) == {}  # 2D: MUMPS at this size
    assert size_default(pre, 10, {}, threshold=0)["ksp_type"] == "cg"
    assert size_default(pre, n, {"ksp_type": "preonly"}) == {}  # a model's own choice wins
