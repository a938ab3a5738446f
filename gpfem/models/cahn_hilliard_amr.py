"""Cahn-Hilliard on an adapted mesh: fine at the interfaces, coarse in the bulk, rebuilt from the base mesh.

Rule (``docs/amr.md``): a cell is an interface cell when the composition at its nodes, normalised
``phi = (c - c_alpha)/(c_beta - c_alpha)``, spans a value in ``[amr_theta, 1 - amr_theta]``
(:func:`~gpfem.amr.indicators.interface_cells`); interface cells are refined to ``amr_max_levels`` with
``amr_buffer`` rings around them, everything else stays at the base mesh.

Adapting is a **rebuild from the base mesh** (:meth:`~gpfem.amr.AdaptiveMesh.rebuild`). On the current mesh
the interface cells plus ``amr_buffer`` rings of (finest) cells make the region to refine; each level of the
rebuild marks the cells of the intermediate mesh that hold the midpoint of a region cell (a local search:
both meshes descend from the same base cells, which stay on their rank; after a restart on another
partition, the region's indicator sampled at the P2 nodes of the intermediate mesh across ranks). So the
buffer is measured in finest cells, not in cells of each level (that made the refined zone about four base
cells wide around every interface). Where an interface has passed the new mesh is simply coarse again, and
the mesh depends on the solution, not on the history of adapts. The first mesh samples the initial condition
itself, level by level, with the buffer at each level.

The composition then moves by interpolation plus the constant that restores its integral
(:func:`~gpfem.amr.transfer.conserve_integral`: mass exact to round-off), and the chemical potential is
recomputed from it (the L2 projection of dF/dc that also starts a run), so the new state is consistent.

When: after an accepted step, every ``amr_interval`` steps, the current mesh is checked (vectorised, one
reduction): adapt if an interface cell is below the finest level (an interface is leaving the refined
zone) or if more than ``amr_coarsen_fraction`` of the refined cells are no longer interface or buffer cells.
The free-energy change an adapt causes is in the history (``adapt_energy_change``); the energy-descent check
of the next step compares with the energy on the new mesh.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gpfem.amr import AdaptiveMesh, AdaptiveModel, Transfer, conserve_integral, dilate, interface_cells
from gpfem.amr.indicators import cell_dof_values, vertex_indicator
from gpfem.amr.refine import global_count
from gpfem.amr.transfer import locate_local
from gpfem.fe.solver_defaults import direct_options
from gpfem.mesh import MeshBundle
from gpfem.models.cahn_hilliard import CahnHilliard, initial_condition

__all__ = ["CahnHilliardAMR", "initial_mesh", "start"]


def _flags(c: Any, p: Mapping[str, Any]) -> np.ndarray:
    return interface_cells(c, p["c_alpha"], p["c_beta"], p["amr_theta"])


def _sampler(p: Mapping[str, Any], source: Callable[[Any], Any]) -> Callable[[MeshBundle], np.ndarray]:
    """Priority on an intermediate mesh from ``source(V) -> c`` on a Lagrange space of it."""
    from dolfinx import fem

    def priority(bundle: MeshBundle) -> np.ndarray:
        degree = 1 if p["initial"] == "random" else 2  # noise is defined per vertex only
        return _flags(source(fem.functionspace(bundle.mesh, ("Lagrange", degree))), p).astype(float)

    return priority


def initial_mesh(p: Mapping[str, Any], amesh: AdaptiveMesh) -> MeshBundle:
    """Refine the base mesh at the interfaces of the initial condition (collective)."""
    return amesh.rebuild(_sampler(p, lambda V: initial_condition(p, V)))


class CahnHilliardAMR(AdaptiveModel):
    """The Cahn-Hilliard model on a mesh rebuilt from the base mesh where the interfaces are.

    Args:
        amesh: The adaptive mesh.
        p: Resolved parameters (with the ``amr_*`` ones).
        model: The model on ``amesh.bundle``.
    """

    def __init__(self, amesh: AdaptiveMesh, p: Any, model: CahnHilliard):
        super().__init__(amesh, model, self._move, energy_key="free_energy")
        self.p = p
        self._steps = 0
        self._idle_base: int | None = None

    def _move(self, old: CahnHilliard, bundle: MeshBundle) -> CahnHilliard:
        old.update_outputs()
        c_old = old.output_functions()[0]
        mass = old.values["mass"]

        def moved(V: Any) -> Any:
            c = Transfer(c_old.function_space, V)(c_old)
            conserve_integral(c, mass)
            return c

        # A solver that fell back from the size-based Krylov default to a direct solve (MUMPS where PETSc
        # has it) keeps it on the new mesh (graded meshes make block-Jacobi ILU fail more often; each
        # failure costs a cut step).
        opts = direct_options(self.comm.size)[0] if old.solver.fell_back else None
        return CahnHilliard(bundle, self.p, initial=moved, solver_options=opts)

    def _idle(self) -> tuple[int, int, int]:
        """(pending interface cells, refined cells, refined cells off the interfaces and their buffer)."""
        self.model.update_outputs()
        flags = _flags(self.model.output_functions()[0], self.p)
        pending = self.amesh.pending(flags.astype(float))
        needed = dilate(self.amesh.bundle.mesh, flags, self.amesh.limits.buffer)
        refined = self.amesh.levels > 0
        return pending, global_count(self.comm, refined), global_count(self.comm, refined & ~needed)

    def needs_adapt(self) -> bool:
        """Whether an interface left the refined zone, or the interfaces vacated too much of it (collective).

        Right after a rebuild some refined cells are already off the interfaces (the buffer of the coarser
        levels, Plaza's transitions); that count is the baseline, and a rebuild is due when the count has
        grown by ``amr_coarsen_fraction`` of the refined cells since.
        """
        pending, n_refined, idle = self._idle()
        if pending > 0:
            return True
        if self._idle_base is None:
            self._idle_base = idle
        return n_refined > 0 and idle - self._idle_base > self.p["amr_coarsen_fraction"] * n_refined

    def checkpoint_state(self) -> dict[str, Any]:
        """The base state, the step count and the idle baseline (so a restart adapts when this run would)."""
        return {**super().checkpoint_state(), "steps": self._steps, "idle_base": self._idle_base}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Take back :meth:`checkpoint_state`."""
        super().restore_state(state)
        self._steps = int(state.get("steps", 0))
        self._idle_base = state.get("idle_base")

    def adapt(self) -> None:
        """Rebuild the mesh from the base at the current interfaces and move the state (collective)."""
        from dolfinx import fem
        from dolfinx import mesh as dmesh

        self.model.update_outputs()
        c = self.model.output_functions()[0]
        mesh = self.amesh.bundle.mesh
        need = dilate(mesh, _flags(c, self.p), self.amesh.limits.buffer)
        mids = dmesh.compute_midpoints(mesh, mesh.topology.dim, np.flatnonzero(need).astype(np.int32))

        def priority(bundle: MeshBundle) -> np.ndarray:
            # A cell is marked when it holds the midpoint of a needed cell. Local: the needed cells and the
            # intermediate cells descend from the same base cells, which stay on their rank.
            where = locate_local(bundle.mesh, mids)
            pr = np.zeros(bundle.mesh.topology.index_map(bundle.mesh.topology.dim).size_local)
            if global_count(self.comm, where < 0) == 0:
                pr[where] = 1.0
                return pr
            # Another partition (a restart redistributed the stored mesh): sample the region's indicator
            # at the P2 nodes of the intermediate mesh across ranks.
            region = vertex_indicator(c.function_space, need)
            sample = Transfer(region.function_space, fem.functionspace(bundle.mesh, ("Lagrange", 2)))(region)
            return (cell_dof_values(sample).max(axis=1) >= 0.5).astype(float)

        # The buffer is already in the region, in rings of the finest cells: none per pass.
        self.rebuild(priority, buffer=0)
        self._idle_base = self._idle()[2]

    def accept(self, t_new: float, dt: float, result: Any) -> None:
        """Commit the step; then check the mesh every ``amr_interval`` steps and adapt if needed."""
        super().accept(t_new, dt, result)
        self._steps += 1
        interval = self.p["amr_interval"]
        if interval > 0 and self._steps % interval == 0 and self.needs_adapt():
            self.adapt()


def start(p: Mapping[str, Any], base: MeshBundle, checkpoint: Path | None = None) -> CahnHilliardAMR:
    """The adaptive model of a run (collective).

    On the base mesh refined at the initial interfaces; on restart (``checkpoint`` given) on the mesh stored
    in it (the time loop then loads the fields), or on the base mesh if none is stored.
    """
    from gpfem.amr.driver import restore
    from gpfem.app.run_parameters import amr_limits

    amesh, state = restore(base, amr_limits(p, dofs_per_vertex=2), checkpoint)
    if checkpoint is None:
        initial_mesh(p, amesh)
    model = CahnHilliardAMR(amesh, p, CahnHilliard(amesh.bundle, p))
    if state is not None:
        model.restore_state(state)
    return model
