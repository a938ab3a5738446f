"""The spectral split in 3D: closed-form 3x3 eigenvalues against NumPy, and the split's physics on a box."""

from __future__ import annotations

import numpy as np
import pytest

from gpfem.app.parameters import resolve
from gpfem.models.fracture_spec import PARAMETERS, PRESETS

LMBDA, MU = 1.2, 0.8


def _rotation(seed: int = 1) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    return q


Q = _rotation()
#: Strain tensors (scale 1e-3, as in the SENT): distinct, double (+ and -), triple, near-double, zero,
#: plane strain (a zero eigenvalue), uniaxial (a double zero).
CASES = {
    "distinct": Q @ np.diag([1.3e-3, -0.4e-3, 0.9e-3]) @ Q.T,
    "random": (lambda m: 0.5 * (m + m.T))(np.random.default_rng(2).normal(size=(3, 3)) * 1e-3),
    "double_neg": Q @ np.diag([2e-3, -1e-3, -1e-3]) @ Q.T,
    "double_pos": Q @ np.diag([2e-3, 2e-3, -1e-3]) @ Q.T,
    "double_mixed": Q @ np.diag([5e-4, 5e-4, 3e-4]) @ Q.T,
    "near_double": Q @ np.diag([2e-3, 1e-3 * (1 + 1e-7), 1e-3]) @ Q.T,
    "triple_pos": 1e-3 * np.eye(3),
    "triple_neg": -2e-3 * np.eye(3),
    "zero": np.zeros((3, 3)),
    "plane_strain": np.array([[1e-3, 2e-4, 0.0], [2e-4, -3e-4, 0.0], [0.0, 0.0, 0.0]]),
    "uniaxial": np.diag([1e-3, 0.0, 0.0]),
}
DISTINCT = ("distinct", "random", "plane_strain")


def _numpy_split(a: np.ndarray) -> tuple[np.ndarray, float, float, np.ndarray]:
    """Eigenvalues (descending), psi+, psi- and sigma+ = d psi+/d eps, from numpy.linalg.eigh."""
    w, v = np.linalg.eigh(a)
    tr = np.trace(a)
    pos, neg = max(tr, 0.0), min(tr, 0.0)
    plus = 0.5 * LMBDA * pos**2 + MU * sum(max(x, 0.0) ** 2 for x in w)
    minus = 0.5 * LMBDA * neg**2 + MU * sum(min(x, 0.0) ** 2 for x in w)
    sig = LMBDA * pos * np.eye(3) + 2 * MU * sum(max(x, 0.0) * np.outer(v[:, i], v[:, i])
                                                 for i, x in enumerate(w))
    return w[::-1], plus, minus, sig


@pytest.fixture(scope="module")
def evaluate():
    """``evaluate(a, shrink)``: the UFL eigenvalues, psi+, psi-, sigma+ and d sigma+/d eps at strain ``a``."""
    import dolfinx_solver  # noqa: F401
    from mpi4py import MPI

    import ufl
    from dolfinx import fem, mesh

    from gpfem.models.fracture_energy import EIG_ACOS_SHRINK, eigenvalues_3x3, strain_energy_split

    msh = mesh.create_unit_cube(MPI.COMM_SELF, 1, 1, 1)
    c = fem.Constant(msh, np.zeros((3, 3)))
    eps = ufl.variable(c)
    plus, minus = strain_energy_split(eps, LMBDA, MU, "spectral", False)
    sig = ufl.diff(plus, eps)
    dsig = ufl.diff(sig, eps)
    idx = [(i, j) for i in range(3) for j in range(3)]
    exprs = {}
    for shrink in (0.0, EIG_ACOS_SHRINK):
        comps = [*eigenvalues_3x3(eps, shrink)]
        if shrink:
            comps += [plus, minus, *[sig[i, j] for i, j in idx],
                      *[dsig[i, j, k, m] for i, j in idx for k, m in idx]]
        exprs[shrink] = fem.Expression(ufl.as_vector(comps), np.zeros((1, 3)))

    def ev(a: np.ndarray, shrink: float = EIG_ACOS_SHRINK) -> dict[str, np.ndarray]:
        c.value[:] = a
        v = exprs[shrink].eval(msh, np.array([0], dtype=np.int32)).ravel()
        out = {"eig": v[:3]}
        if shrink:
            out.update(plus=v[3], minus=v[4], sig=v[5:14].reshape(3, 3), dsig=v[14:].reshape(3, 3, 3, 3))
        return out

    return ev


@pytest.mark.parametrize("case", list(CASES))
def test_eigenvalues_match_numpy(evaluate, case):
    """The plain closed form (shrink 0) equals numpy.linalg.eigvalsh to 1e-8 of the largest |eigenvalue|,
    also at double and triple eigenvalues; the smoothed form used by the split differs from it only at
    (near-)repeated eigenvalues, by its bound sqrt(2 shrink) of the spread
    (the split is symmetric in them)."""
    from gpfem.models.fracture_energy import EIG_ACOS_SHRINK, EIG_SHIFT

    a = CASES[case]
    w = _numpy_split(a)[0]
    scale = max(np.abs(w).max(), 1e-3)
    exact = evaluate(a, 0.0)["eig"]
    assert np.abs(exact - w).max() < 1e-8 * scale + 2 * EIG_SHIFT**0.5
    smooth = evaluate(a)["eig"]
    tol = 1e-8 if case in DISTINCT else 2 * (2 * EIG_ACOS_SHRINK) ** 0.5
    assert np.abs(smooth - w).max() < tol * scale + 2 * EIG_SHIFT**0.5
    assert smooth.sum() == pytest.approx(np.trace(a), abs=1e-15)


@pytest.mark.parametrize("case", list(CASES))
def test_split_energy_and_stress_match_numpy(evaluate, case):
    """psi+, psi- and the stress d psi+/d eps (ufl.diff, as ufl.derivative builds the residual) equal
    the eigen-decomposition's to 1e-8 relative, at repeated eigenvalues too; a double eigenvalue exactly at
    0 (the kink of <x>+: the smoothing's split of the pair is not cancelled there) moves the stress by up
    to 2 mu sqrt(2 shrink) of the spread (measured: 8e-7 relative)."""
    from gpfem.models.fracture_energy import EIG_ACOS_SHRINK

    a = CASES[case]
    _, plus, minus, sig = _numpy_split(a)
    v = evaluate(a)
    e_scale = 0.5 * (LMBDA + 2 * MU) * max(np.abs(a).max(), 1e-3) ** 2
    s_scale = (LMBDA + 2 * MU) * max(np.abs(a).max(), 1e-3)
    assert v["plus"] == pytest.approx(plus, abs=1e-8 * e_scale)
    assert v["minus"] == pytest.approx(minus, abs=1e-8 * e_scale)
    s_tol = 2 * (2 * EIG_ACOS_SHRINK) ** 0.5 if case == "uniaxial" else 1e-8
    assert np.abs(v["sig"] - sig).max() < s_tol * s_scale
    assert np.all(np.isfinite(v["dsig"]))


@pytest.mark.parametrize("case", DISTINCT[:2])
def test_split_jacobian_matches_finite_differences(evaluate, case):
    """At distinct eigenvalues (away from a kink of <x>+) d sigma+/d eps equals central differences."""
    a = CASES[case]
    d = evaluate(a)["dsig"]
    rng = np.random.default_rng(3)
    for _ in range(3):
        m = rng.normal(size=(3, 3))
        e = 0.5 * (m + m.T)
        h = 1e-9
        fd = (evaluate(a + h * e)["sig"] - evaluate(a - h * e)["sig"]) / (2 * h)
        assert np.abs(np.einsum("ijkl,kl->ij", d, e) - fd).max() < 1e-6 * np.abs(fd).max()


def _box_model(**overrides):
    from mpi4py import MPI

    from gpfem.mesh import box
    from gpfem.models.fracture import Fracture

    p = resolve(PARAMETERS, PRESETS["bar"], {"nu": 0.3, "crack_track": False, **overrides})
    return Fracture(box(1.0, 0.5, 0.5, 4, 2, 2, comm=MPI.COMM_WORLD), p)


def test_spectral_split_matches_plain_energy_in_3d_tension():
    """u = A x with every principal strain positive: psi+ = psi, psi- = 0 (3D, the model's own mesh)."""
    import ufl
    from dolfinx import fem

    from gpfem.models.fracture_energy import strain_energy_split

    m = _box_model(split="none")
    try:
        m.u.interpolate(lambda x: np.vstack([0.3 * x[0] + 0.1 * x[1], 0.2 * x[1] + 0.05 * x[2],
                                             0.1 * x[0] + 0.25 * x[2]]))
        eps = ufl.sym(ufl.grad(m.u))
        dx = ufl.dx(domain=m.bundle.mesh)
        vals = {}
        for split in ("none", "spectral"):
            plus, minus = strain_energy_split(eps, 1.0, 1.0, split, False)
            vals[split] = [fem.assemble_scalar(fem.form(f * dx)) for f in (plus, minus)]
        assert vals["spectral"][0] == pytest.approx(vals["none"][0], rel=1e-10)
        assert vals["spectral"][1] == pytest.approx(0.0, abs=1e-14)
    finally:
        m.close()


@pytest.mark.parametrize(("split", "damaged"), [("spectral", False), ("none", True)])
def test_no_damage_under_3d_compression(split, damaged):
    """u = load x on the whole boundary of a box, load < 0: the spectral split leaves it undamaged; without
    a split (the control) the same compression damages it."""
    m = _box_model(model="AT2", split=split, loading="isotropic", load_max=-2.0)
    try:
        for k in range(3):
            res = m.try_step(0.5 * k, 0.5)
            assert res.ok, res.reason
            m.accept(0.5 * (k + 1), 0.5, res)
        assert m.values["elastic_energy"] > 0.1
        if damaged:
            assert m.max_damage() > 0.1
        else:
            assert m.max_damage() == 0.0
    finally:
        m.close()
