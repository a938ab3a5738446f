"""Periodic boundaries: the dof map (scalar, mixed, blocked; 2D and 3D; corners), the reduced SNES
(manufactured periodic solution, Dirichlet dofs, bounds), bad input. Serial; the map and the solve also
under ``mpiexec -n 2`` (``mpi`` marks), where masters and slaves sit on different ranks."""

from mpi4py import MPI

import basix.ufl
import numpy as np
import pytest
import ufl
from dolfinx import fem

from gpfem.app.parameters import resolve
from gpfem.app.periodic_axes import periodic_axes, periodic_parameter
from gpfem.base.errors import GpfemError, MeshError, ParameterError
from gpfem.fe.periodic import PeriodicMap, match_points, scalar_leaves
from gpfem.fe.solver import NonlinearSolver
from gpfem.mesh import box, rectangle


def _space(kind: str):
    if kind == "box-scalar":
        m = box(2.0, 1.0, 1.5, 4, 3, 3).mesh
        return fem.functionspace(m, ("Lagrange", 1)), (2.0, 1.0, 1.5), (4, 3, 3)
    quad = kind.endswith("quad")
    m = rectangle(3.0, 2.0, 6, 4, quadrilateral=quad).mesh
    P1 = basix.ufl.element("Lagrange", m.basix_cell(), 1)
    if kind == "ch-mixed":  # Cahn-Hilliard's (c, mu)
        return fem.functionspace(m, basix.ufl.mixed_element([P1, P1])), (3.0, 2.0), (6, 4)
    Pv = basix.ufl.element("Lagrange", m.basix_cell(), 1, shape=(2,))
    if kind == "vector-quad":  # a blocked space (martensite without elasticity)
        return fem.functionspace(m, Pv), (3.0, 2.0), (6, 4)
    # martensite with elasticity: eta vector + displacement vector
    return fem.functionspace(m, basix.ufl.mixed_element([Pv, Pv])), (3.0, 2.0), (6, 4)


def _fill(u, f):
    for k, (X, idx) in enumerate(scalar_leaves(u.function_space)):
        u.x.array[idx] = f(X) + 1000 * k  # a different field in every component
    u.x.scatter_forward()


def _check_map(kind: str, axes: tuple[int, ...]):
    V, L, n = _space(kind)
    gdim = len(L)
    pm = PeriodicMap(V, axes)
    pro = pm.prolongation()
    ncomp = sum(1 for _ in scalar_leaves(V))
    # reduced size: (n_a) points along a periodic axis, (n_a + 1) along the others
    pts = np.prod([n[a] if a in axes else n[a] + 1 for a in range(gdim)])
    assert pro.size_global == ncomp * pts
    # every row of P has exactly one entry
    indptr, _, vals = pro.P.getValuesCSR()
    assert np.all(np.diff(indptr) == 1) and np.all(vals == 1.0)
    # a non-periodic field: after enforce, every dof holds the field at its wrapped point
    u = fem.Function(V)
    lin = lambda X: X[:, 0] + 10 * X[:, 1] + 100 * X[:, 2]  # noqa: E731
    _fill(u, lin)
    pm.enforce(u)
    for k, (X, idx) in enumerate(scalar_leaves(V)):
        W = X.copy()
        for a in axes:
            W[np.isclose(W[:, a], L[a]), a] = 0.0
        assert np.max(np.abs(u.x.array[idx] - (lin(W) + 1000 * k))) < 1e-12
    # a periodic field is left alone
    per = lambda X: sum(np.cos(2 * np.pi * X[:, a] / L[a]) for a in range(gdim))  # noqa: E731
    _fill(u, per)
    before = u.x.array.copy()
    pm.enforce(u)
    assert np.max(np.abs(u.x.array - before)) < 1e-12
    pro.destroy()
    return pm


@pytest.mark.parametrize(("kind", "axes"), [
    ("ch-mixed", (0,)), ("ch-mixed", (1,)), ("ch-mixed", (0, 1)), ("vector-quad", (0, 1)),
    ("mixed-vector-quad", (0, 1)), ("box-scalar", (0, 1, 2)), ("box-scalar", (2,)),
])
def test_periodic_map_wraps_every_component_and_corner(kind, axes):
    _check_map(kind, axes)


@pytest.mark.mpi
@pytest.mark.parametrize(("kind", "axes"), [("ch-mixed", (0, 1)), ("mixed-vector-quad", (0, 1)),
                                            ("box-scalar", (0, 1, 2))])
def test_periodic_map_across_ranks(kind, axes):
    pm = _check_map(kind, axes)
    lo, hi = pm.offset, pm.offset + pm.n_owned
    remote = np.count_nonzero((pm.master[pm.is_slave] < lo) | (pm.master[pm.is_slave] >= hi))
    assert MPI.COMM_WORLD.allreduce(int(remote)) > 0  # the test really had masters on other ranks


def test_match_points_finds_neighbours_across_bucket_edges():
    rng = np.random.default_rng(1)
    cand = rng.random((500, 3))
    perm = rng.permutation(500)
    query = cand[perm] + rng.uniform(-1e-9, 1e-9, (500, 3))
    assert np.array_equal(match_points(query, cand, 1e-8), perm)
    assert np.all(match_points(query + 1e-3, cand, 1e-8) == -1)


def _mms(n: int, prefix: str, dirichlet: bool = False):
    """-lap u + u = f on [0, 2] x [0, 1], periodic in x (and y), u = cos(pi x) sin(2 pi y) (or sin(pi y))."""
    m = rectangle(2.0, 1.0, 2 * n, n).mesh
    V = fem.functionspace(m, ("Lagrange", 1))
    x = ufl.SpatialCoordinate(m)
    u_ex = ufl.cos(ufl.pi * x[0]) * (ufl.sin(ufl.pi * x[1]) if dirichlet else ufl.sin(2 * ufl.pi * x[1]))
    u, v = fem.Function(V), ufl.TestFunction(V)
    F = (ufl.inner(ufl.grad(u), ufl.grad(v)) + u * v - (-ufl.div(ufl.grad(u_ex)) + u_ex) * v) * ufl.dx
    bcs = []
    if dirichlet:
        dofs = fem.locate_dofs_geometrical(V, lambda X: np.isclose(X[1], 0) | np.isclose(X[1], 1))
        bcs = [fem.dirichletbc(0.0, dofs, V)]
    pm = PeriodicMap(V, (0,) if dirichlet else (0, 1))
    s = NonlinearSolver(F, u, prefix=prefix, bcs=bcs, constraint=pm)
    info = s.solve()
    s.close()
    err = m.comm.allreduce(fem.assemble_scalar(fem.form((u - u_ex) ** 2 * ufl.dx)))
    return np.sqrt(err), info, u, pm


@pytest.mark.parametrize("dirichlet", [False, True])
def test_reduced_solve_converges_at_rate_two(dirichlet):
    """Periodic in x and y (no boundary at all), or in x with u = 0 on y = 0, 1: L2 rate 2 (P1)."""
    errs = [_mms(n, f"gpfem_per{n}_{int(dirichlet)}_", dirichlet)[0] for n in (8, 16, 32)]
    assert errs[1] == pytest.approx(SERIAL_MMS_ERRORS[dirichlet], rel=1e-10)
    rates = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(rates - 2.0) < 0.1), rates


#: L2 errors of the serial runs of ``_mms(16, ...)`` (fully periodic; periodic in x with u = 0 at y = 0, 1).
SERIAL_MMS_ERRORS = {False: 0.017813804245410562, True: 0.0074329183721352984}


@pytest.mark.mpi
@pytest.mark.parametrize("dirichlet", [False, True])
def test_reduced_solve_in_parallel_equals_serial(dirichlet):
    """The same discrete solution on 2 ranks: the error equals the serial one to round-off."""
    err, info, _, _ = _mms(16, f"gpfem_perpar{int(dirichlet)}_", dirichlet)
    assert info.iterations == 1
    assert err == pytest.approx(SERIAL_MMS_ERRORS[dirichlet], rel=1e-10)


def test_bounds_hold_on_the_reduced_unknowns():
    """An obstacle u <= 0.5 on a periodic problem whose free solution reaches 1: the bound holds."""
    m = rectangle(1.0, 1.0, 16, 16).mesh
    V = fem.functionspace(m, ("Lagrange", 1))
    x = ufl.SpatialCoordinate(m)
    u, v = fem.Function(V), ufl.TestFunction(V)
    g = ufl.cos(2 * ufl.pi * x[0]) * ufl.cos(2 * ufl.pi * x[1])
    F = (0.01 * ufl.inner(ufl.grad(u), ufl.grad(v)) + u * v - g * v) * ufl.dx
    lo, hi = fem.Function(V), fem.Function(V)
    lo.x.array[:] = -10.0
    hi.x.array[:] = 0.5
    s = NonlinearSolver(F, u, prefix="gpfem_perbound_", bounds=(lo, hi), constraint=PeriodicMap(V, (0, 1)))
    s.solve()
    s.close()
    top = m.comm.allreduce(u.x.array.max(), op=MPI.MAX)
    assert top == pytest.approx(0.5, abs=1e-10)


def test_dirichlet_on_one_side_of_a_periodic_pair_is_refused():
    m = rectangle(1.0, 1.0, 4, 4).mesh
    V = fem.functionspace(m, ("Lagrange", 1))
    u, v = fem.Function(V), ufl.TestFunction(V)
    left = fem.locate_dofs_geometrical(V, lambda X: np.isclose(X[0], 0.0))
    bc = fem.dirichletbc(0.0, left, V)
    with pytest.raises(GpfemError, match="one side of a periodic pair"):
        NonlinearSolver(u * v * ufl.dx, u, prefix="gpfem_perbad_", bcs=[bc],
                        constraint=PeriodicMap(V, (0,)))


def test_mesh_with_unmatched_sides_is_refused():
    b = rectangle(1.0, 1.0, 4, 4)
    X = b.mesh.geometry.x
    right = np.flatnonzero(np.isclose(X[:, 0], 1.0) & (X[:, 1] > 0.1) & (X[:, 1] < 0.9))
    X[right[:1], 1] += 0.05  # one node on the right side no longer faces its partner
    V = fem.functionspace(b.mesh, ("Lagrange", 1))
    with pytest.raises(MeshError, match="no partner"):
        PeriodicMap(V, (0,))
    PeriodicMap(V, (1,))  # the other axis still matches


def test_periodic_parameter_spellings():
    decl = [periodic_parameter()]
    assert periodic_axes(resolve(decl, {})["periodic"], 2) == ()
    assert periodic_axes(resolve(decl, {"periodic": "x,y"})["periodic"], 2) == (0, 1)
    assert periodic_axes(resolve(decl, {"periodic": ["z", "x"]})["periodic"], 3) == (0, 2)  # TOML list
    assert periodic_axes(resolve(decl, {"periodic": True})["periodic"], 3) == (0, 1, 2)  # TOML bool
    assert periodic_axes(resolve(decl, {"periodic": "all"})["periodic"], 2) == (0, 1)
    with pytest.raises(ParameterError, match="'periodic'.*unknown axis"):
        resolve(decl, {"periodic": "x,w"})
    with pytest.raises(ParameterError, match="'periodic'.*does not exist on a 2D mesh"):
        periodic_axes("x,z", 2)
