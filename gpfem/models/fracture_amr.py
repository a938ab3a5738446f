r"""Phase-field fracture on an adapted mesh: refined where the crack is and ahead of it, during the load step.

Rule (``docs/amr.md``): a cell is marked when damage has started on it, ``max alpha > amr_alpha``, or when
its tensile elastic energy density is a fraction of the critical density,
``psi+ > amr_psi_fraction * Gc / (c_w ell)`` (AT1 damage starts at half of ``Gc/(c_w ell)``; AT2's local
damage is ``psi+/(psi+ + Gc/(c_w ell))``), plus ``amr_buffer`` rings. Marked cells are refined while their
size ``h_K = (d!|K|)^(1/d)`` is above ``amr_h`` (default ``ell/2``) and their level below
``amr_max_levels``. So, within those limits, every cell the crack runs through has ``h_K <= amr_h``: the
accepted state of every load step is checked and the step is not accepted while a marked cell is coarser.

Refinement is **nested** and only adds cells (a crack never heals): the P1 fields, the damage bound
(``alpha_prev``: irreversibility) included, move exactly (:mod:`gpfem.amr.transfer`), so damage never
decreases anywhere across an adapt.

**During the load step**: the alternate minimisation calls a monitor every ``amr_check_every`` iterations;
when a marked cell is coarser than allowed, the iterations stop there, the mesh is refined, the accepted
state *and the current iterate* move to the new mesh, and the iterations go on from that iterate on the new
mesh (nothing is thrown away; the step's problem is the same, only better resolved). After convergence the
check is made once more; a refinement then means a few more iterations on the new mesh. A crack that runs
through coarse cells in one load increment is thus re-solved on the refined mesh before the step counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gpfem.amr import AdaptiveMesh, AdaptiveModel, CellExpression, Transfer, fracture_cells
from gpfem.base.log import get_logger
from gpfem.drivers.stepping import StepResult
from gpfem.mesh import MeshBundle
from gpfem.mesh.size import cell_sizes
from gpfem.models.fracture import Fracture
from gpfem.models.fracture_energy import c_w, elastic_densities

__all__ = ["FractureAMR", "RefineRequest", "reachable_size", "start"]

log = get_logger("fracture")


class RefineRequest(Exception):  # noqa: N818 (a control-flow signal, not an error)
    """Raised by the alternate-minimisation monitor: refine, then go on from the current iterate.

    Args:
        iterations: Alternate minimisations done in this try so far.
        priority: The marking that asked for it (per owned cell), for the refinement.
    """

    def __init__(self, iterations: int, priority: np.ndarray):
        super().__init__(f"refine after {iterations} iterations")
        self.iterations = iterations
        self.priority = priority


class FractureAMR(AdaptiveModel):
    """The fracture model on a mesh refined (nested) where the crack is and is about to be.

    Args:
        amesh: The adaptive mesh (``limits.h_min`` is the target size ``amr_h``).
        p: Resolved parameters (with the ``amr_*`` ones).
        model: The model on ``amesh.bundle``.
    """

    def __init__(self, amesh: AdaptiveMesh, p: Any, model: Fracture):
        super().__init__(amesh, model, self._move)
        self.p = p
        self.cw = c_w(p["model"])
        self._s = 0.0
        self._monitor_on = True
        self._attach(model)

    # -- the indicator -------------------------------------------------------------------------------
    def _attach(self, m: Fracture) -> None:
        k = m.constants
        psi_plus, _ = elastic_densities(m.u, k["E"], k["nu"], self.p["split"],
                                        self.p["hypothesis"] == "plane_stress")
        self._psi = CellExpression(psi_plus, m.bundle.mesh)
        m.altmin.monitor = self._monitor
        m.altmin.monitor_every = self.p["amr_check_every"]

    def priority(self) -> np.ndarray:
        """Marked cells of the current state (1.0), per owned cell."""
        p = self.p
        return fracture_cells(self.model.alpha, self._psi.values(), p["Gc"], p["ell"], self.cw,
                              p["amr_alpha"], p["amr_psi_fraction"]).astype(float)

    def _monitor(self, k: int) -> None:
        if self._monitor_on:
            pr = self.priority()
            if self.amesh.pending(pr) > 0:
                raise RefineRequest(k, pr)

    # -- moving the state ----------------------------------------------------------------------------
    def _move(self, old: Fracture, bundle: MeshBundle) -> Fracture:
        new = Fracture(bundle, {**self.p, "crack_track": False})  # no second tracker to set up:
        new.crack = old.crack  # one for the run (its times); it locates again on the new mesh
        op_a, op_u = Transfer(old.A, new.A), Transfer(old.V, new.V)
        # the accepted state (and bound) first: it defines the step's start, its load and its measures
        op_a(old.alpha_prev, new.alpha)
        op_u(old.u_prev, new.u)
        new.prepare(self._s)
        # then the current iterate, never below the bound
        a = op_a(old.alpha)
        np.maximum(a.x.array, new.alpha_prev.x.array, out=new.alpha.x.array)
        op_u(old.u, new.u)
        self._attach(new)
        return new

    # -- the time-model protocol -----------------------------------------------------------------------
    def prepare(self, t: float) -> None:
        """Take the current state at pseudo-time ``t`` as the accepted one."""
        self._s = t
        super().prepare(t)

    def accept(self, s_new: float, ds: float, result: Any) -> None:
        """Commit the step."""
        super().accept(s_new, ds, result)
        self._s = s_new

    def try_step(self, s: float, ds: float) -> StepResult:
        """The load step, refined and continued on the new mesh until no marked cell is too coarse."""
        done = 0
        self._monitor_on = True
        while True:
            try:
                res = self.model.try_step(s, ds)
            except RefineRequest as req:
                done += req.iterations
                if not self.refine(req.priority):
                    self._monitor_on = False  # at the DOF limit: finish the step on this mesh
                continue
            done += res.iterations
            if not res.ok:
                break
            pr = self.priority()
            if self.amesh.pending(pr) == 0 or not self.refine(pr):
                break
        res.iterations = done
        if res.ok:  # alternate minimisations only (the last try's Newton iterations are their own column)
            res.data[self.model.iterations_key] = done - res.data.get("newton_iterations", 0)
        return res


def reachable_size(base: MeshBundle, limits: Any) -> float:
    """The largest ``h_K`` of the base mesh after ``limits.max_levels`` marked refinements (collective).

    A marked cell's ``h_K = (d!|K|)^(1/d)`` drops by ``2^(1/d)`` per bisection (its volume halves) and by
    2 per split into ``2^d`` children.
    """
    from mpi4py import MPI

    d = base.mesh.topology.dim
    h = float(base.comm.allreduce(float(cell_sizes(base.mesh).max(initial=0.0)), op=MPI.MAX))
    per_level = 2.0 ** (1.0 / d) if limits.bisect else 2.0
    return h / per_level**limits.max_levels


def start(p: Mapping[str, Any], base: MeshBundle, checkpoint: Path | None = None) -> FractureAMR:
    """The adaptive model of a run (collective): on the base mesh, or on restart on the stored mesh.

    The target size is ``amr_h`` (``ell/2`` when 0): cells at or below it are not refined further.
    """
    from gpfem.amr.driver import restore
    from gpfem.app.run_parameters import amr_limits

    h_target = p["amr_h"] if p["amr_h"] > 0 else 0.5 * p["ell"]
    limits = amr_limits(p, dofs_per_vertex=base.gdim + 1, h_min=h_target)
    reach = reachable_size(base, limits)
    if reach > h_target * (1 + 1e-12):
        log.warning(f"amr_max_levels = {limits.max_levels} refines the coarsest base cells only to h_K = "
                    f"{reach:.3g}, above amr_h = {h_target:.3g}: the crack may run through coarser cells")
    amesh, state = restore(base, limits, checkpoint)
    model = FractureAMR(amesh, p, Fracture(amesh.bundle, p))
    if state is not None:
        model.restore_state(state)
    return model
