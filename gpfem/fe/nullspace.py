"""Rigid-body modes of a vector P1 displacement space: the near-nullspace that algebraic multigrid needs.

Elasticity's stiffness matrix vanishes on rigid motions (translations and rotations; 3 in 2D, 6 in 3D).
Algebraic multigrid (PETSc ``GAMG``) builds its coarse spaces from these modes when the matrix carries them
as its near-nullspace (``MatSetNearNullSpace``); without them it sees a scalar problem per component and
converges slowly, or breaks down, on elasticity. Hand the result to
:class:`~gpfem.fe.solver.NonlinearSolver` (``near_nullspace=``), which sets it on the Jacobian.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RigidBodyModes"]


class RigidBodyModes:
    """The orthonormalised rigid-body modes of a blocked vector space as a ``PETSc.NullSpace``.

    Args:
        V: A vector function space with one block of ``gdim`` dofs per node (e.g. vector P1).

    Attributes:
        nullspace: The ``PETSc.NullSpace`` (3 vectors in 2D, 6 in 3D).
    """

    def __init__(self, V: Any):
        from dolfinx import la
        from petsc4py import PETSc

        from gpfem.base.errors import GpfemError

        gdim = V.mesh.geometry.dim
        imap, bs = V.dofmap.index_map, V.dofmap.index_map_bs
        if bs != gdim or gdim not in (2, 3):
            raise GpfemError(f"rigid-body modes need a {gdim}-vector space with block size {gdim}, got {bs}")
        n = imap.size_local
        x = V.tabulate_dof_coordinates()[:n]
        x = x - V.mesh.comm.allreduce(x.sum(axis=0)) / max(V.mesh.comm.allreduce(n), 1)  # centred
        # translations, then rotations: in 2D about z; in 3D about z, x and y
        rot = [(-x[:, 1], x[:, 0], None)] if gdim == 2 else \
            [(-x[:, 1], x[:, 0], 0.0), (0.0, -x[:, 2], x[:, 1]), (x[:, 2], 0.0, -x[:, 0])]
        self._vectors = [la.vector(imap, bs) for _ in range(gdim + len(rot))]
        for k in range(gdim):
            self._vectors[k].array[: n * bs][k::bs] = 1.0
        for j, comps in enumerate(rot):
            a = self._vectors[gdim + j].array
            for k in range(gdim):
                a[: n * bs][k::bs] = comps[k]
        la.orthonormalize(self._vectors)
        self.nullspace = PETSc.NullSpace().create(vectors=[v.petsc_vec for v in self._vectors],
                                                  comm=V.mesh.comm)

    @property
    def size(self) -> int:
        """Number of modes."""
        return len(self._vectors)

    def destroy(self) -> None:
        """Destroy the PETSc null space (collective)."""
        self.nullspace.destroy()
