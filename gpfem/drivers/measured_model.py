"""What the ready-made time models share: the measures of the accepted and the trial state, outputs, restarts.

:class:`~gpfem.drivers.gradient_flow.GradientFlow` and :class:`~gpfem.drivers.quasistatic.QuasiStatic` differ
in how a step is tried; both keep the measures (:meth:`MeasuredModel.measure`) of the last accepted state
and of the trial, write a list of functions to the field series and save named fields for a restart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mpi4py import MPI

    from dolfinx import fem

__all__ = ["MeasuredModel"]


class MeasuredModel:
    """The bookkeeping of a time model measured after every step (a base class).

    Args:
        comm: The communicator of the model's mesh.
        outputs: The functions of the field series.
        checkpoint: Name -> ``(function, sub-space index or None)`` saved for restarts.
        iterations_key: History column of the iterations a step took (0 in a row not from a step).
    """

    def __init__(self, comm: MPI.Comm, outputs: Sequence[fem.Function],
                 checkpoint: Mapping[str, tuple[fem.Function, int | None]], iterations_key: str):
        self.comm = comm
        self.iterations_key = iterations_key
        self._outputs = list(outputs)
        self._checkpoint = dict(checkpoint)
        self._values: dict[str, float] | None = None
        self._trial: dict[str, float] = {}

    def measure(self) -> dict[str, float]:
        """Scalars of the current state, reduced over ranks (the history columns)."""
        raise NotImplementedError

    def prepare(self, t: float = 0.0) -> None:
        """Take the current state at ``t`` as the accepted one (a subclass sets its state first)."""
        self._values = self.measure()

    @property
    def values(self) -> dict[str, float]:
        """The measures of the last accepted state."""
        if self._values is None:
            self.prepare(0.0)
        return dict(self._values or {})

    def history_row(self) -> dict[str, Any]:
        """The measures of the current state, and 0 iterations (for a state not from a step)."""
        return {**self.values, self.iterations_key: 0}

    def output_functions(self) -> list[fem.Function]:
        """The functions of the field series."""
        return list(self._outputs)

    def update_outputs(self) -> None:
        """Refresh the outputs from the state (nothing to do when they are the state functions)."""

    def checkpoint_fields(self) -> dict[str, tuple[fem.Function, int | None]]:
        """Fields saved for a restart: name -> ``(function, sub-space index or None)``."""
        return dict(self._checkpoint)

    def _accept_trial(self) -> None:
        """The trial's measures become the accepted ones."""
        self._values = self._trial
