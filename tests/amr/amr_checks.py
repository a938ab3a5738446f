"""Invariants of gpfem.amr, written once and run serially (test_amr.py) and on 2 ranks (test_amr_mpi.py).

Each check builds small meshes and asserts numbers; all of them are collective.
"""

from __future__ import annotations

from mpi4py import MPI

import numpy as np
import ufl
from dolfinx import fem
from dolfinx import mesh as dmesh

from gpfem.amr import (
    AdaptiveMesh,
    AmrLimits,
    Transfer,
    cell_sizes,
    conserve_integral,
    dilate,
    interface_cells,
    mesh_arrays,
    mesh_from_arrays,
    refine_cells,
    transfer,
    transfer_bounded,
)
from gpfem.amr.refine import global_count
from gpfem.mesh import rectangle

SIDES = {"left": (0, 0.0), "right": (0, 1.0), "bottom": (1, 0.0), "top": (1, 1.0)}


def integral(u, form=None):
    comm = u.function_space.mesh.comm
    return comm.allreduce(fem.assemble_scalar(fem.form(form if form is not None else u * ufl.dx)))


def barycentric(mesh, cells, points):
    """Barycentric coordinates (2D) of points (n, 2) in the given local cells of mesh."""
    X = mesh.geometry.x[mesh.geometry.dofmaps[0][cells]][:, :, :2]
    T = np.stack([X[:, 1] - X[:, 0], X[:, 2] - X[:, 0]], axis=2)
    lam12 = np.linalg.solve(T, (points - X[:, 0])[..., None])[..., 0]
    return np.column_stack([1.0 - lam12.sum(axis=1), lam12])


def owned_midpoints(mesh):
    n = mesh.topology.index_map(mesh.topology.dim).size_local
    return dmesh.compute_midpoints(mesh, mesh.topology.dim, np.arange(n, dtype=np.int32))[:, :2]


def tanh_field(V, x0=0.5, width=0.03):
    c = fem.Function(V, name="c")
    c.interpolate(lambda x: 0.5 + 0.2 * np.tanh((x[0] - x0 - 0.1 * x[1]) / width))
    return c


#: Checks that take no arguments, run serially (test_amr.py) and on 2 ranks (test_amr_mpi.py).
SHARED_CHECKS = (
    "parent_map_and_levels",
    "bisection",
    "boundary_groups_survive",
    "limits",
    "dilate",
    "interface_indicator",
    "nested_transfer_exact",
    "rebuild_conserves_mass",
    "damage_bound_transfer",
)


def check_parent_map_and_levels():
    """Every child lies in its parent; children of marked cells are one level up, others keep theirs."""
    b = rectangle(1.0, 1.0, 8, 8)
    mid = owned_midpoints(b.mesh)
    marked = np.abs(mid[:, 0] - 0.5) < 0.2
    ref = refine_cells(b, marked)
    new = ref.bundle.mesh
    lam = barycentric(b.mesh, ref.parent_cells, owned_midpoints(new))
    assert lam.min() > -1e-12
    assert np.array_equal(ref.levels, marked[ref.parent_cells].astype(np.int32))
    # a marked triangle is split into 4 (all edges), so the marked area now holds 4x the cells
    n_marked = global_count(b.comm, marked)
    assert global_count(b.comm, ref.levels == 1) == 4 * n_marked
    # area is kept
    one = fem.Constant(new, 1.0)
    assert abs(new.comm.allreduce(fem.assemble_scalar(fem.form(one * ufl.dx))) - 1.0) < 1e-13
    # second pass on the refined cells only: levels up to 2
    ref2 = refine_cells(ref.bundle, ref.levels == 1, ref.levels)
    assert new.comm.allreduce(int(ref2.levels.max()), op=MPI.MAX) == 2


def check_bisection():
    """Longest-edge bisection: a marked cell splits in two (area / 2, h_K / sqrt 2), and so does the
    neighbour across its longest edge (closure); all-marked right triangles all split once on any partition.
    """
    from gpfem.models.fracture_amr import reachable_size

    b = rectangle(1.0, 1.0, 8, 8)  # right triangles, legs 1/8, hypotenuse shared by the two of a square
    n = b.mesh.topology.index_map(2).size_local
    ref = refine_cells(b, np.ones(n, dtype=bool), bisect=True)
    assert ref.bundle.mesh.topology.index_map(2).size_global == 2 * 128
    assert np.allclose(cell_sizes(ref.bundle.mesh), 0.125 / np.sqrt(2.0), rtol=1e-12)
    assert np.all(ref.levels == 1)
    mid = owned_midpoints(b.mesh)
    marked = mid[:, 0] < 0.25
    ref = refine_cells(b, marked, bisect=True)
    area = cell_sizes(ref.bundle.mesh) ** 2 / 2
    parent_area = 0.125**2 / 2
    assert np.allclose(area[marked[ref.parent_cells]], parent_area / 2, rtol=1e-12)
    # the marked strip is whole squares, so nothing outside it is split
    assert ref.bundle.mesh.topology.index_map(2).size_global == 128 + global_count(b.comm, marked)
    assert np.array_equal(ref.levels, marked[ref.parent_cells].astype(np.int32))
    lim = AmrLimits(max_levels=2, bisect=True)
    assert abs(reachable_size(b, lim) - 0.125 / 2) < 1e-14
    assert abs(reachable_size(b, AmrLimits(max_levels=2)) - 0.125 / 4) < 1e-14


def check_boundary_groups_survive():
    """Named facet groups keep their length and sit on their side after two refinements."""
    b = rectangle(1.0, 1.0, 6, 6)
    cur = b
    for _ in range(2):
        mid = owned_midpoints(cur.mesh)
        cur = refine_cells(cur, (mid[:, 0] < 0.4) | (mid[:, 1] > 0.7)).bundle
    m = cur.mesh
    fdim = m.topology.dim - 1
    for name, (axis, coord) in SIDES.items():
        facets = cur.facets(name)
        length = m.comm.allreduce(fem.assemble_scalar(fem.form(
            fem.Constant(m, 1.0) * ufl.ds(domain=m, subdomain_data=cur.facet_tags,
                                          subdomain_id=cur.groups[name][1]))))
        assert abs(length - 1.0) < 1e-13, (name, length)
        x = dmesh.compute_midpoints(m, fdim, facets)
        assert np.all(np.abs(x[:, axis] - coord) < 1e-12), name
    # more facets than before on the refined sides
    owned = m.topology.index_map(fdim).size_local
    n_left = m.comm.allreduce(int(np.sum(cur.facets("left") < owned)))
    assert n_left == 4 * 6


def check_limits():
    """max_levels, h_min and max_dofs hold when everything asks for refinement."""
    b = rectangle(1.0, 1.0, 4, 4)
    am = AdaptiveMesh(b, AmrLimits(max_levels=2, buffer=0))
    for _ in range(4):
        am.refine(np.ones(am.levels.size))
    assert am.max_level() == 2
    assert am.bundle.num_cells_global() == 32 * 16
    assert am.pending(np.ones(am.levels.size)) == 0
    hmin = 0.25 / 2 * 1.01  # one level allowed
    am = AdaptiveMesh(b, AmrLimits(max_levels=5, h_min=hmin, buffer=0))
    for _ in range(3):
        am.refine(np.ones(am.levels.size))
    assert am.max_level() == 1
    assert am.comm.allreduce(float(cell_sizes(am.bundle.mesh).min()), op=MPI.MIN) > hmin / 2
    cap = 60
    am = AdaptiveMesh(b, AmrLimits(max_levels=3, max_dofs=cap, buffer=0))
    prio = owned_midpoints(b.mesh)[:, 0] + 0.01  # prefer the right-hand side
    assert am.refine(prio) is not None
    assert am.limited and 25 < am.dofs() <= cap
    mid = owned_midpoints(am.bundle.mesh)
    right = am.comm.allreduce(int(np.sum(am.levels[mid[:, 0] > 0.5])))
    left = am.comm.allreduce(int(np.sum(am.levels[mid[:, 0] < 0.5])))
    assert right > left  # the highest priorities were kept


def check_dilate():
    """One ring adds exactly the cells touching the marked set, on any partition."""
    b = rectangle(1.0, 1.0, 8, 8)
    mid = owned_midpoints(b.mesh)
    marked = mid[:, 0] < 0.5  # columns 0-3 (vertices x <= 0.5)
    n = b.num_cells_global()
    assert global_count(b.comm, marked) == n // 2
    assert global_count(b.comm, dilate(b.mesh, marked, 1)) == n * 5 // 8  # + column 4
    assert global_count(b.comm, dilate(b.mesh, marked, 2)) == n * 6 // 8


def check_interface_indicator():
    """Cells whose composition range meets [theta, 1 - theta] are marked, bulk cells are not."""
    b = rectangle(1.0, 1.0, 16, 16)
    V = fem.functionspace(b.mesh, ("Lagrange", 1))
    c = tanh_field(V, width=0.02)
    marked = interface_cells(c, 0.3, 0.7, theta=0.1)
    mid = owned_midpoints(b.mesh)
    dist = np.abs(mid[:, 0] - 0.5 - 0.1 * mid[:, 1])
    assert not np.any(marked[dist > 0.2])  # far from the interface: bulk
    assert np.all(marked[dist < 0.02])  # on it
    # a sharp step (one vertex in each well, no intermediate value) is still an interface
    c.interpolate(lambda x: np.where(x[0] < 0.51, 0.3, 0.7))
    marked = interface_cells(c, 0.3, 0.7, theta=0.1)
    assert global_count(b.comm, marked) == 2 * 16


def check_nested_transfer_exact():
    """Coarse -> fine on nested meshes is the identity on functions: values, integrals, energies."""
    b = rectangle(1.0, 1.0, 8, 8)
    V = fem.functionspace(b.mesh, ("Lagrange", 1))
    u = fem.Function(V)
    u.interpolate(lambda x: np.sin(3 * x[0]) * np.cos(2 * x[1]) + x[0] ** 2)
    mid = owned_midpoints(b.mesh)
    ref = refine_cells(b, mid[:, 1] < 0.6)
    V2 = fem.functionspace(ref.bundle.mesh, ("Lagrange", 1))
    op = Transfer(V, V2)
    assert op.local  # refined cells stay on their parent's rank: no communication
    u2 = op(u)
    # the fine values at the vertices of each child equal the parent's linear function there
    m2 = ref.bundle.mesh
    n2 = ref.parent_cells.size
    nodes = m2.geometry.dofmaps[0][:n2]
    expected = np.empty((n2, 3))
    for k in range(3):
        lam = barycentric(b.mesh, ref.parent_cells, m2.geometry.x[nodes[:, k], :2])
        expected[:, k] = np.sum(lam * u.x.array[V.dofmap.list[ref.parent_cells]], axis=1)
    got = u2.x.array[V2.dofmap.list[:n2]]
    assert np.max(np.abs(got - expected)) < 1e-13
    assert abs(integral(u2) - integral(u)) < 1e-14
    g = ufl.inner(ufl.grad(u), ufl.grad(u)) * ufl.dx
    g2 = ufl.inner(ufl.grad(u2), ufl.grad(u2)) * ufl.dx
    assert abs(integral(u2, g2) - integral(u, g)) < 1e-12 * integral(u, g)
    # vector P1 too (displacements)
    W = fem.functionspace(b.mesh, ("Lagrange", 1, (2,)))
    w = fem.Function(W)
    w.interpolate(lambda x: np.vstack([x[0] + 2 * x[1], x[1] ** 2]))
    w2 = transfer(w, fem.functionspace(m2, ("Lagrange", 1, (2,))))
    e, e2 = (ufl.inner(ufl.sym(ufl.grad(f)), ufl.sym(ufl.grad(f))) * ufl.dx for f in (w, w2))
    assert abs(integral(w2, e2) - integral(w, e)) < 1e-12 * integral(w, e)


def check_rebuild_conserves_mass():
    """Re-refining from the base moves an interface's refinement; the transfer plus the constant
    correction keeps the mass to 1e-12 (relative) and changes the field only by the interpolation error."""
    b = rectangle(1.0, 1.0, 8, 8)
    lim = AmrLimits(max_levels=3, buffer=1)
    am = AdaptiveMesh(b, lim)

    def sample(field):
        def prio(bundle):
            P2 = fem.functionspace(bundle.mesh, ("Lagrange", 2))
            return interface_cells(transfer(field, P2), 0.3, 0.7).astype(float)
        return prio

    V0 = fem.functionspace(b.mesh, ("Lagrange", 1))
    am.rebuild(sample(tanh_field(V0, x0=0.3)))
    V1 = fem.functionspace(am.bundle.mesh, ("Lagrange", 1))
    c1 = tanh_field(V1, x0=0.3)
    mass = integral(c1)
    old_cells = am.bundle.num_cells_global()
    # the interface "moves" to x0 = 0.6: the new mesh is refined there and coarse near 0.3
    c_moved = tanh_field(V1, x0=0.6)
    am.rebuild(sample(c_moved))
    assert am.max_level() == 3 and am.bundle.num_cells_global() > 0.5 * old_cells
    V2 = fem.functionspace(am.bundle.mesh, ("Lagrange", 1))
    c2 = transfer(c1, V2)  # the old field (interface at 0.3) onto a mesh coarse there: mass is lost
    lost = abs(integral(c2) - mass) / mass
    assert lost > 1e-8
    shift = conserve_integral(c2, mass)
    assert abs(integral(c2) - mass) / mass < 1e-12
    assert abs(shift) < 1e-2
    # the same field again -> the same mesh (the mesh depends on the solution, not on the history)
    n1 = am.bundle.num_cells_global()
    am.rebuild(sample(c_moved))
    assert am.bundle.num_cells_global() == n1


def check_damage_bound_transfer():
    """The damage and its lower bound move together; alpha >= bound after the move; on nested meshes the
    damage is unchanged everywhere (integral, max) so it never decreases across an adapt."""
    b = rectangle(1.0, 1.0, 8, 8)
    A = fem.functionspace(b.mesh, ("Lagrange", 1))
    alpha, bound = fem.Function(A), fem.Function(A)
    alpha.interpolate(lambda x: np.exp(-((x[1] - 0.5) / 0.1) ** 2) * (x[0] < 0.6))
    bound.interpolate(lambda x: 0.8 * np.exp(-((x[1] - 0.5) / 0.1) ** 2) * (x[0] < 0.6))
    assert np.all(alpha.x.array >= bound.x.array)
    mid = owned_midpoints(b.mesh)
    ref = refine_cells(b, np.abs(mid[:, 1] - 0.5) < 0.15)
    A2 = fem.functionspace(ref.bundle.mesh, ("Lagrange", 1))
    op = Transfer(A, A2)
    a2, b2 = transfer_bounded(alpha, bound, A2, op)
    assert np.all(a2.x.array >= b2.x.array)
    assert abs(integral(a2) - integral(alpha)) < 1e-14
    assert abs(integral(b2) - integral(bound)) < 1e-14
    amax = b.comm.allreduce(float(alpha.x.array.max()), op=MPI.MAX)
    assert abs(b.comm.allreduce(float(a2.x.array.max()), op=MPI.MAX) - amax) < 1e-14
    # and the other way (fine -> base, not nested): still alpha >= bound at every vertex
    a0, b0 = transfer_bounded(a2, b2, A)
    assert np.all(a0.x.array >= b0.x.array)


def check_store_round_trip(path):
    """An adapted mesh and a field keyed by vertex input index survive gather -> file -> rebuild, on the
    same number of ranks and (when run on several) on rank 0 alone."""
    from gpfem.io.checkpoint import load_checkpoint, save_checkpoint

    b = rectangle(1.0, 1.0, 6, 6)
    am = AdaptiveMesh(b, AmrLimits(max_levels=2, buffer=0))
    for _ in range(2):
        am.refine((owned_midpoints(am.bundle.mesh)[:, 0] < 0.3).astype(float))
    V = fem.functionspace(am.bundle.mesh, ("Lagrange", 1))
    u = fem.Function(V)
    u.interpolate(lambda x: np.sin(5 * x[0]) + x[1] ** 3)
    ref_vals = (integral(u), integral(u, u * u * ufl.dx))
    levels_hist = am.comm.allreduce(np.bincount(am.levels, minlength=3))
    n_cells = am.bundle.num_cells_global()
    n_vertices = am.bundle.mesh.geometry.index_map().size_global
    arrays = mesh_arrays(am.bundle, {"level": am.levels})
    assert (len(arrays) > 0) == (am.comm.rank == 0)
    save_checkpoint(path, {"u": (u, None)}, {"step": 1})

    def reload(comm):
        nb, data = mesh_from_arrays(comm, arrays)
        assert nb.num_cells_global() == n_cells
        assert nb.mesh.geometry.index_map().size_global == n_vertices
        assert np.array_equal(comm.allreduce(np.bincount(data["level"], minlength=3)), levels_hist)
        for name, (axis, coord) in SIDES.items():
            x = dmesh.compute_midpoints(nb.mesh, 1, nb.facets(name))
            assert np.all(np.abs(x[:, axis] - coord) < 1e-12)
            length = comm.allreduce(fem.assemble_scalar(fem.form(fem.Constant(nb.mesh, 1.0) * ufl.ds(
                domain=nb.mesh, subdomain_data=nb.facet_tags, subdomain_id=nb.groups[name][1]))))
            assert abs(length - 1.0) < 1e-13
        V2 = fem.functionspace(nb.mesh, ("Lagrange", 1))
        u2 = fem.Function(V2)
        load_checkpoint(path, {"u": (u2, None)})
        assert abs(integral(u2) - ref_vals[0]) < 1e-13
        assert abs(integral(u2, u2 * u2 * ufl.dx) - ref_vals[1]) < 1e-13
        # the values are those of the function: interpolating the formula agrees at every vertex
        u3 = fem.Function(V2)
        u3.interpolate(lambda x: np.sin(5 * x[0]) + x[1] ** 3)
        assert np.max(np.abs(u3.x.array - u2.x.array)) < 1e-13
        return V2, u3

    V2, u3 = reload(am.comm)
    # moving a field from the adapted mesh to the same mesh on another partition: exact, whichever path
    # the transfer takes (local on 1 rank; across ranks where the partitions differ)
    op = Transfer(V, V2)
    moved = op(u)
    assert np.max(np.abs(moved.x.array - u3.x.array)) < 1e-13
    if am.comm.size > 1 and am.comm.rank == 0:
        reload(MPI.COMM_SELF)
    am.comm.barrier()


def check_series_with_changing_mesh(folder):
    """A VTKFile series written across an adapt holds one mesh per output (ParaView/pyvista)."""
    from dolfinx.io import VTKFile

    b = rectangle(1.0, 1.0, 4, 4)
    V = fem.functionspace(b.mesh, ("Lagrange", 1))
    u = fem.Function(V, name="c")
    ref = refine_cells(b, owned_midpoints(b.mesh)[:, 0] < 0.5)
    u2 = transfer(u, fem.functionspace(ref.bundle.mesh, ("Lagrange", 1)))
    f = folder / "series.pvd"
    with VTKFile(b.comm, str(f), "w") as vtk:
        vtk.write_function([u], 0.0)
        vtk.write_function([u2], 1.0)
    b.comm.barrier()
    counts = None
    if b.comm.rank == 0:
        import pyvista as pv

        r = pv.get_reader(str(f))
        counts = []
        for t in r.time_values:
            r.set_active_time_value(t)
            counts.append(r.read().combine().n_cells)
    counts = b.comm.bcast(counts, root=0)
    assert counts == [32, b.comm.allreduce(ref.parent_cells.size)]
