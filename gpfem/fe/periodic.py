r"""Periodic boundary conditions as a prolongation matrix: :math:`u = P u_r + g`.

DOLFINx has no periodic function spaces. Here a periodic space is the image of a *reduced* vector
:math:`u_r` under a prolongation :math:`P` (full dofs x reduced dofs, one entry 1 per row): every dof on a
"high" side (``x = x_max`` of a periodic axis) is a *slave* and takes the value of its *master*, the dof at
the point shifted back by the period on every high axis at once (so the four corners of a doubly periodic
rectangle, or the eight of a triply periodic box, share one master). Dofs of homogeneous or inhomogeneous
Dirichlet conditions are rows of ``P`` that are zero; their values ``g`` are added after the product.

:class:`PeriodicMap` finds the masters once per function space, for scalar, blocked (vector) and mixed
spaces alike: it descends to the scalar sub-spaces, collapses them, and matches dof coordinates shifted by
the period. Candidates for masters (owned dofs on a low side) are gathered from every rank, so a master
and its slaves may live on different ranks. :meth:`PeriodicMap.prolongation` then numbers the reduced dofs
(each rank owns its own masters and free dofs) and builds ``P`` as a PETSc AIJ matrix from numpy arrays.
Everything is vectorised; nothing loops over mesh entities in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import dolfinx_solver  # noqa: F401  (loads libmpi before dolfinx/petsc4py)
from mpi4py import MPI

import numpy as np
from petsc4py import PETSc

from gpfem.base.errors import GpfemError, MeshError

if TYPE_CHECKING:
    from dolfinx import fem

__all__ = ["PeriodicMap", "Prolongation", "match_points", "scalar_leaves"]


def scalar_leaves(V: fem.FunctionSpace) -> list[tuple[np.ndarray, np.ndarray]]:
    """The scalar sub-spaces of ``V`` as ``(dof coordinates, indices of those dofs in V)``.

    Indices are local and unrolled (block index * block size + component), owned dofs then ghosts. A
    scalar space is its own leaf; vector and mixed spaces are descended recursively and collapsed.
    """
    out: list[tuple[np.ndarray, np.ndarray]] = []

    def visit(S: Any) -> None:
        if S.num_sub_spaces == 0:
            if S is V:
                n = V.dofmap.index_map.size_local + V.dofmap.index_map.num_ghosts
                out.append((V.tabulate_dof_coordinates(), np.arange(n, dtype=np.int64)))
            else:
                C, dofs = S.collapse()
                idx = np.concatenate([np.asarray(d, dtype=np.int64).ravel() for d in dofs])
                out.append((C.tabulate_dof_coordinates(), idx))
            return
        for k in range(S.num_sub_spaces):
            visit(S.sub(k))

    visit(V)
    return out


def match_points(query: np.ndarray, cand: np.ndarray, tol: float) -> np.ndarray:
    """For each row of ``query``, the index of the row of ``cand`` within ``tol`` of it, else -1.

    Points are bucketed on a grid of spacing ``4 tol``; a pair closer than ``tol`` falls into the same bucket
    for at least one of the 2^d half-cell offsets of the grid, and each offset is tried for the points
    still unmatched. Distinct points must be much further apart than ``tol`` (mesh nodes are).
    """
    out = np.full(len(query), -1, dtype=np.int64)
    if len(query) == 0 or len(cand) == 0:
        return out
    d = query.shape[1]
    q = 4.0 * tol
    origin = np.minimum(query.min(axis=0), cand.min(axis=0)) - q
    for shift in range(2**d):
        todo = np.flatnonzero(out < 0)
        if todo.size == 0:
            break
        off = np.array([0.5 * q * ((shift >> i) & 1) for i in range(d)])
        kc = np.floor((cand - origin + off) / q).astype(np.int64)
        kq = np.floor((query[todo] - origin + off) / q).astype(np.int64)
        _, inv = np.unique(np.concatenate([kc, kq]), axis=0, return_inverse=True)
        inv = inv.ravel()
        owner = np.full(inv.max() + 1, -1, dtype=np.int64)
        owner[inv[: len(kc)]] = np.arange(len(kc))
        hit = owner[inv[len(kc):]]
        ok = hit >= 0
        ok[ok] = np.max(np.abs(cand[hit[ok]] - query[todo[ok]]), axis=1) <= tol
        out[todo[ok]] = hit[ok]
    return out


class PeriodicMap:
    """The master of every owned dof of ``V`` for the given periodic axes.

    Args:
        V: The function space (scalar, blocked or mixed Lagrange).
        axes: Periodic axes (0 = x, 1 = y, 2 = z).
        rtol: Matching tolerance relative to the largest extent of the mesh.

    Attributes:
        master: For each owned (unrolled) dof, the global index of its master (itself if not a slave).
        is_slave: Owned dofs on a high side of a periodic axis.
        lo, hi: The mesh's bounding box (global).

    Raises:
        MeshError: If the mesh has no extent along a periodic axis, or a dof on a high side has no partner
            on the opposite side (the opposite sides of the mesh do not match).
    """

    def __init__(self, V: fem.FunctionSpace, axes: Sequence[int], rtol: float = 1e-8):
        self.V = V
        self.axes = tuple(sorted(set(int(a) for a in axes)))
        mesh = V.mesh
        comm = self.comm = mesh.comm
        gdim = mesh.geometry.dim
        if not self.axes:
            raise GpfemError("PeriodicMap needs at least one periodic axis")
        if self.axes[-1] >= gdim:
            raise MeshError(f"periodic axis {self.axes[-1]} does not exist on a {gdim}D mesh")
        x = mesh.geometry.x[:, :gdim]
        self.lo = np.full(gdim, np.inf)
        self.hi = np.full(gdim, -np.inf)
        comm.Allreduce(x.min(axis=0) if len(x) else self.lo.copy(), self.lo, op=MPI.MIN)
        comm.Allreduce(x.max(axis=0) if len(x) else self.hi.copy(), self.hi, op=MPI.MAX)
        ext = self.hi - self.lo
        self.tol = rtol * float(ext.max())
        for a in self.axes:
            if not ext[a] > 1e3 * self.tol:
                raise MeshError(f"periodic axis {'xyz'[a]}: the mesh has no extent along it")
        imap, bs = V.dofmap.index_map, V.dofmap.index_map_bs
        self.bs = bs
        self.n_owned = imap.size_local * bs
        self.offset = imap.local_range[0] * bs
        self.n_global = imap.size_global * bs
        self.master = np.arange(self.n_owned, dtype=np.int64) + self.offset
        self.is_slave = np.zeros(self.n_owned, dtype=bool)
        ax = np.array(self.axes)
        missing = 0
        for X, idx in scalar_leaves(V):
            own = idx < self.n_owned
            X, idx = X[own][:, :gdim], idx[own]
            high = np.abs(X[:, ax] - self.hi[ax]) <= self.tol
            low = np.abs(X[:, ax] - self.lo[ax]) <= self.tol
            slave = high.any(axis=1)
            cand = ~slave & low.any(axis=1)
            parts = comm.allgather((X[cand], idx[cand] + self.offset))
            cX = np.concatenate([p[0] for p in parts])
            cI = np.concatenate([p[1] for p in parts])
            target = X[slave].copy()
            target[:, ax] -= np.where(high[slave], ext[ax], 0.0)
            hit = match_points(target, cX, self.tol)
            missing += int(np.count_nonzero(hit < 0))
            s_idx = idx[slave]
            self.master[s_idx[hit >= 0]] = cI[hit[hit >= 0]]
            self.is_slave[s_idx] = True
        missing = comm.allreduce(missing)
        if missing:
            names = ", ".join("xyz"[a] for a in self.axes)
            raise MeshError(f"periodic ({names}): {missing} dofs on a high side have no partner on the "
                            "opposite side; the opposite sides of the mesh must match node for node")
        self.n_slaves = comm.allreduce(int(self.is_slave.sum()))

    def enforce(self, u: fem.Function) -> None:
        """Make a function of ``V`` periodic in place: every slave takes its master's value."""
        pro = self.prolongation()
        pro.enforce(u)
        pro.destroy()

    def prolongation(self, bcs: Sequence[fem.DirichletBC] = (), mat_type: str | None = None) -> Prolongation:
        """The prolongation ``P`` with the dofs of ``bcs`` removed from the reduced space.

        Args:
            bcs: Dirichlet conditions on ``V``. A master and its slaves must be constrained together (or
                not at all).
            mat_type: PETSc matrix type of ``P`` (that of the full Jacobian, e.g. ``mpiaij``).
        """
        return Prolongation(self, bcs, mat_type)


class Prolongation:
    """``u = P u_r + g``: the reduced space of a :class:`PeriodicMap` with Dirichlet dofs removed.

    Attributes:
        P: PETSc AIJ matrix (full x reduced), one entry 1 per unconstrained row, none on Dirichlet rows.
        reduced_local: Local indices (in the full function) of the owned reduced dofs, in reduced order.
        size_global: Number of reduced dofs.

    Raises:
        GpfemError: If a Dirichlet condition constrains a master but not its slaves (or the reverse).
    """

    def __init__(self, pmap: PeriodicMap, bcs: Sequence[fem.DirichletBC] = (), mat_type: str | None = None):
        comm = pmap.comm
        n = pmap.n_owned
        self.bcs = list(bcs)
        self.n_owned = n
        is_bc = np.zeros(n, dtype=bool)
        for bc in self.bcs:
            dofs, n_owned_bc = bc.dof_indices()
            is_bc[dofs[:n_owned_bc]] = True
        free = ~pmap.is_slave & ~is_bc
        self.reduced_local = np.flatnonzero(free).astype(np.int32)
        nr = int(free.sum())
        r0 = comm.exscan(nr) or 0
        self.size_global = comm.allreduce(nr)
        self.size_local = nr
        rid = np.full(n, -1.0)
        rid[free] = r0 + np.arange(nr)
        # The reduced index of each slave's master, wherever the master lives.
        slaves = np.flatnonzero(pmap.is_slave)
        src = PETSc.Vec().createMPI((n, pmap.n_global), comm=comm)
        src.array[:] = rid
        dst = PETSc.Vec().createSeq(len(slaves), comm=PETSc.COMM_SELF)
        iset = PETSc.IS().createGeneral(pmap.master[slaves].astype(PETSc.IntType), comm=PETSc.COMM_SELF)
        scatter = PETSc.Scatter().create(src, iset, dst, None)  # type: ignore[arg-type]  # None: all of dst
        forward = PETSc.ScatterMode.FORWARD
        scatter.scatter(src, dst, PETSc.InsertMode.INSERT, forward)  # type: ignore[arg-type]
        master_rid = np.rint(dst.array_r).astype(np.int64)
        for o in (scatter, iset, dst, src):
            o.destroy()
        bad = np.count_nonzero((master_rid >= 0) == is_bc[slaves])
        bad = comm.allreduce(int(bad))
        if bad:
            raise GpfemError(f"{bad} periodic dofs: a Dirichlet condition holds on one side of a periodic "
                             "pair but not on the other; constrain both sides or neither")
        rid[slaves] = master_rid
        rows = rid >= 0
        indptr = np.concatenate([[0], np.cumsum(rows)]).astype(PETSc.IntType)
        cols = rid[rows].astype(PETSc.IntType)
        vals = np.ones(len(cols), dtype=PETSc.ScalarType)
        P = PETSc.Mat().create(comm=comm)
        P.setSizes(((n, pmap.n_global), (nr, self.size_global)))
        P.setType(mat_type or PETSc.Mat.Type.AIJ)
        P.setPreallocationCSR((indptr, cols, vals))  # type: ignore[arg-type]  # arrays, not Sequences
        P.assemble()
        self.P = P
        self._work = P.createVecLeft()  # full-space vector of P's type

    def restrict(self, full: np.ndarray) -> np.ndarray:
        """The reduced values of a full local array: the value at each master or free dof."""
        return full[self.reduced_local]

    def prolong(self, x_r: PETSc.Vec, u: fem.Function) -> None:
        """``u = P x_r + g`` (``g`` from the Dirichlet conditions), ghosts updated."""
        self.P.mult(x_r, self._work)
        u.x.array[: self.n_owned] = self._work.array_r
        for bc in self.bcs:  # owned and ghost entries; the scatter gives ghosts their owners' (equal) values
            bc.set(u.x.array)
        u.x.scatter_forward()

    def multiply_transpose(self, full: PETSc.Vec, out: PETSc.Vec) -> None:
        """``out = P^T full`` for a full-space PETSc vector (any type; its owned part is used)."""
        self._work.array[:] = full.array_r
        self.P.multTranspose(self._work, out)

    def enforce(self, u: fem.Function) -> None:
        """Make ``u`` periodic in place: every slave takes its master's value (Dirichlet dofs their ``g``)."""
        x_r = self.P.createVecRight()
        x_r.array[:] = self.restrict(u.x.array)
        self.prolong(x_r, u)
        x_r.destroy()

    def destroy(self) -> None:
        """Destroy the PETSc objects (collective)."""
        self._work.destroy()
        self.P.destroy()
