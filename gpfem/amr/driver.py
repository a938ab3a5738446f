"""A time model on a changing mesh: rebuild the model on the adapted mesh and move its state.

:class:`AdaptiveModel` wraps the model of the current mesh and is itself a
:class:`~gpfem.core.timeloop.TimeModel`, so the shared time loop runs it unchanged: history rows (with a
``dofs`` column, the number of adapts and the energy change they caused), field series (the loop writes
whatever functions :meth:`AdaptiveModel.output_functions` returns now), checkpoints (the adapted mesh is
stored with the fields, :meth:`AdaptiveModel.checkpoint_arrays`) and restart.

What is model-specific comes in as three callables:

* ``build(bundle) -> model``: the model on a mesh (forms are compiled once; the JIT cache serves the rest);
* ``transfer(old, new)``: move the accepted state from the old model to the new one (and, for a step being
  re-solved, the trial state);
* ``indicator(model) -> priority per owned cell`` (``> 0``: refine), or for a rebuild from the base mesh
  ``rebuild_priority(model) -> (bundle -> priority)``.

The solvers of the old model are closed before the new model is built (solver option prefixes are unique
among live solvers); its Functions live on until the transfer is done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gpfem.amr.adaptive_mesh import AdaptiveMesh
from gpfem.amr.store import mesh_arrays
from gpfem.mesh import MeshBundle

__all__ = ["AdaptiveModel"]


class AdaptiveModel:
    """The current model of an adaptive run, rebuilt whenever its mesh changes.

    Args:
        amesh: The adaptive mesh (its current mesh is the one the first model is built on).
        build: ``build(bundle) -> model``.
        transfer: ``transfer(old_model, new_model)``.
        energy_key: Key of the model's ``values`` whose change across an adapt is reported
            (``adapt_energy_change``); ``None``: not reported.
    """

    def __init__(
        self,
        amesh: AdaptiveMesh,
        build: Callable[[MeshBundle], Any],
        transfer: Callable[[Any, Any], None],
        energy_key: str | None = None,
    ):
        self.amesh = amesh
        self._build = build
        self._transfer = transfer
        self.energy_key = energy_key
        self.model = build(amesh.bundle)
        self.comm = self.model.comm
        self.dofs_start = self.dofs_max = amesh.dofs()
        self.mesh_version = 0
        self.adapts_total = 0
        self._row_adapts = 0
        self._row_change = 0.0

    # -- adapting ----------------------------------------------------------------------------------------
    def replace_model(self) -> None:
        """Build the model on ``amesh.bundle`` and move the state into it (collective)."""
        old = self.model
        before = self._energy(old)
        old.close()
        new = self._build(self.amesh.bundle)
        self._transfer(old, new)
        self.model = new
        self.mesh_version += 1
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
        if self.amesh.refine(priority) is None:
            return False
        self.replace_model()
        return True

    def rebuild(self, priority_on: Callable[[MeshBundle], np.ndarray]) -> bool:
        """Re-refine from the base mesh (see :meth:`AdaptiveMesh.rebuild`), then rebuild the model."""
        self.amesh.rebuild(priority_on)
        self.replace_model()
        return True

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
        """The adapted mesh and its levels as arrays (rank 0; ``{}`` elsewhere), stored with the fields."""
        return mesh_arrays(self.amesh.bundle, {"level": self.amesh.levels})

    def summary(self) -> dict[str, int]:
        """DOFs at the start, now and at most, and the number of adapts."""
        return {"dofs_start": self.dofs_start, "dofs_end": self.amesh.dofs(), "dofs_max": self.dofs_max,
                "adapts": self.adapts_total}

    def close(self) -> None:
        """Close the current model (collective)."""
        self.model.close()
