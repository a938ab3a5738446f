"""A time model on a changing mesh: rebuild the model on the adapted mesh and move its state.

:class:`AdaptiveModel` wraps the model of the current mesh and is itself a
:class:`~gpfem.drivers.timeloop.TimeModel`, so the shared time loop runs it unchanged: history rows (with a
``dofs`` column, the number of adapts and the energy change they caused), field series (the loop writes
whatever functions :meth:`AdaptiveModel.output_functions` returns now), checkpoints (the adapted mesh is
stored with the fields, :meth:`AdaptiveModel.checkpoint_arrays`) and restart.

What is model-specific comes in as one callable, ``move(old_model, bundle) -> new_model``: build the model
on the new mesh (forms are compiled once; the JIT cache serves the rest) and move the state into it. The
solvers of the old model are closed before ``move`` is called (solver option prefixes are unique among live
solvers); its Functions live on until the move is done. Subclasses decide *when* to adapt and from which
indicator (:mod:`gpfem.models.fracture_amr`, :mod:`gpfem.models.cahn_hilliard_amr`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from gpfem.amr.adaptive_mesh import AdaptiveMesh
from gpfem.amr.store import mesh_arrays
from gpfem.base.log import get_logger
from gpfem.mesh import MeshBundle

__all__ = ["STATE_KEY", "AdaptiveModel", "restore"]

log = get_logger("amr")

#: Name of the adaptation state in a checkpoint.
STATE_KEY = "amr__state"


class AdaptiveModel:
    """The current model of an adaptive run, rebuilt whenever its mesh changes.

    Args:
        amesh: The adaptive mesh.
        model: The model on ``amesh.bundle``.
        move: ``move(old_model, bundle) -> new_model`` (see the module docstring).
        energy_key: Key of the model's ``values`` whose change across an adapt is reported
            (``adapt_energy_change``); ``None``: not reported.
    """

    def __init__(
        self,
        amesh: AdaptiveMesh,
        model: Any,
        move: Callable[[Any, MeshBundle], Any],
        energy_key: str | None = None,
    ):
        self.amesh = amesh
        self._move = move
        self.energy_key = energy_key
        self.model = model
        self.comm = model.comm
        self.dofs_start = self.dofs_max = amesh.dofs()
        self.adapts_total = 0
        self.adapt_seconds = 0.0
        self.limited_adapts = 0
        self._row_adapts = 0
        self._row_change = 0.0

    # -- adapting ----------------------------------------------------------------------------------------
    def replace_model(self) -> None:
        """Build the model on ``amesh.bundle`` and move the state into it (collective)."""
        old = self.model
        before = self._energy(old)
        old.close()
        new = self._move(old, self.amesh.bundle)
        self.model = new
        self.adapts_total += 1
        self._row_adapts += 1
        self.dofs_max = max(self.dofs_max, self.amesh.dofs())
        after = self._energy(new)
        if before is not None and after is not None:
            self._row_change += after - before

    def _energy(self, model: Any) -> float | None:
        if self.energy_key is None:
            return None
        return float(model.values[self.energy_key])

    def refine(self, priority: np.ndarray) -> bool:
        """Nested refinement where ``priority > 0``, then the model is rebuilt; whether the mesh changed."""
        t0 = time.perf_counter()
        changed = self.amesh.refine(priority) is not None
        if changed:
            self.replace_model()
        self._note_limit()
        self.adapt_seconds += time.perf_counter() - t0
        return changed

    def _note_limit(self) -> None:
        """Count the adapts the DOF cap cut short; warn at the first (size rules may not hold after it)."""
        if not self.amesh.limited:
            return
        self.limited_adapts += 1
        if self.limited_adapts == 1:
            log.warning(f"amr_max_dofs = {self.amesh.limits.max_dofs} reached: only the cells of highest "
                        "indicator are refined from now on (summary: amr_dof_limited_adapts)")

    def rebuild(self, priority_on: Callable[[MeshBundle], np.ndarray], buffer: int | None = None) -> None:
        """Re-refine from the base mesh (see :meth:`AdaptiveMesh.rebuild`), then rebuild the model."""
        t0 = time.perf_counter()
        self.amesh.rebuild(priority_on, buffer)
        self.replace_model()
        self._note_limit()
        self.adapt_seconds += time.perf_counter() - t0

    # -- the time-model protocol, delegated ------------------------------------------------------------
    @property
    def values(self) -> dict[str, float]:
        """The current model's measures of the last accepted state."""
        return self.model.values

    def try_step(self, t: float, dt: float) -> Any:
        """The current model's trial step (subclasses adapt here or in :meth:`accept`)."""
        return self.model.try_step(t, dt)

    def accept(self, t_new: float, dt: float, result: Any) -> None:
        """Commit the trial step."""
        self.model.accept(t_new, dt, result)

    def reject(self) -> None:
        """Roll back."""
        self.model.reject()

    def prepare(self, t: float) -> None:
        """Take the current state as the accepted one."""
        self.model.prepare(t)

    def history_row(self) -> dict[str, Any]:
        """The model's row, and ``dofs``, ``adapts`` and ``adapt_energy_change`` since the last row."""
        row = {**self.model.history_row(), "dofs": self.amesh.dofs(), "adapts": self._row_adapts}
        if self.energy_key is not None:
            row["adapt_energy_change"] = self._row_change
        self._row_adapts, self._row_change = 0, 0.0
        return row

    def output_functions(self) -> list[Any]:
        """The current model's output functions (new objects after an adapt)."""
        return self.model.output_functions()

    def update_outputs(self) -> None:
        """Refresh the outputs."""
        self.model.update_outputs()

    def checkpoint_fields(self) -> dict[str, tuple[Any, int | None]]:
        """The current model's restart fields."""
        return self.model.checkpoint_fields()

    def checkpoint_arrays(self) -> dict[str, Any]:
        """The adapted mesh, its levels and :meth:`checkpoint_state` as arrays (rank 0; ``{}`` elsewhere).

        The time loop stores them with the fields; :func:`restore` reads them back.
        """
        arrays = mesh_arrays(self.amesh.bundle, {"level": self.amesh.levels})
        if self.comm.rank == 0:
            arrays[STATE_KEY] = np.array(json.dumps(self.checkpoint_state()))
        return arrays

    def checkpoint_state(self) -> dict[str, Any]:
        """Small JSON-serialisable state of the adaptation a restart needs (subclasses add theirs)."""
        return {"dofs_start": self.dofs_start, "dofs_max": self.dofs_max, "adapts": self.adapts_total,
                "adapt_seconds": self.adapt_seconds, "limited_adapts": self.limited_adapts}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Take back what :meth:`checkpoint_state` saved."""
        self.dofs_start = int(state.get("dofs_start", self.dofs_start))
        self.dofs_max = max(int(state.get("dofs_max", self.dofs_max)), self.amesh.dofs())
        self.adapts_total = int(state.get("adapts", 0))
        self.adapt_seconds = float(state.get("adapt_seconds", 0.0))
        self.limited_adapts = int(state.get("limited_adapts", 0))

    def summary(self) -> dict[str, Any]:
        """DOFs at the start, now and at most, the number of adapts and the wall time they took."""
        return {"dofs_start": self.dofs_start, "dofs_end": self.amesh.dofs(), "dofs_max": self.dofs_max,
                "adapts": self.adapts_total, "adapt_wall_time_s": self.adapt_seconds,
                "amr_dof_limited_adapts": self.limited_adapts}

    def close(self) -> None:
        """Close the current model (collective)."""
        self.model.close()


def restore(
    base: MeshBundle, limits: Any, checkpoint: Any
) -> tuple[AdaptiveMesh, dict[str, Any] | None]:
    """The adaptive mesh of a run (collective): from the checkpoint if it stores one, else the base mesh.

    Args:
        base: The base mesh (rebuilt from its source).
        limits: The :class:`~gpfem.amr.AmrLimits`.
        checkpoint: The checkpoint file, or ``None`` for a new run.

    Returns:
        The adaptive mesh and the saved adaptation state (``None`` for a new run or a checkpoint without a
        stored mesh, e.g. of a run without adaptation: it continues on the base mesh).
    """
    from gpfem.amr.store import mesh_from_arrays
    from gpfem.io.checkpoint import read_checkpoint_arrays

    if checkpoint is None:
        return AdaptiveMesh(base, limits), None
    stored = read_checkpoint_arrays(checkpoint, base.comm, "mesh__")
    if stored is None:
        return AdaptiveMesh(base, limits), None
    bundle, data = mesh_from_arrays(base.comm, stored)
    extra = read_checkpoint_arrays(checkpoint, base.comm, STATE_KEY)
    state = json.loads(str(extra[STATE_KEY])) if extra and base.comm.rank == 0 else None
    state = base.comm.bcast(state, root=0) or {}
    return AdaptiveMesh(base, limits, bundle, data["level"]), state
