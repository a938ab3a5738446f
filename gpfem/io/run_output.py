"""Where a time loop's outputs go: a run folder (:class:`RunOutput`) or memory (:class:`MemoryOutput`).

:func:`~gpfem.drivers.timeloop.run_time_loop` asks its output object for a history writer, a field writer and
checkpoints. :class:`RunOutput` writes the files of a run folder (``history.csv``, the field series,
``checkpoint.npz``) and creates the folder; :class:`MemoryOutput` (``output=None``) writes nothing and
returns the history as numpy arrays in the loop's result (``result["history"]``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from gpfem.base.errors import GpfemError
from gpfem.io.checkpoint import load_checkpoint, save_checkpoint
from gpfem.io.collective import rank0_call
from gpfem.io.fields import FieldWriter
from gpfem.io.history import HistoryWriter

if TYPE_CHECKING:
    from mpi4py import MPI

    from dolfinx import fem

__all__ = ["CHECKPOINT", "HISTORY", "MemoryHistory", "MemoryOutput", "RunFolder", "RunOutput", "as_output"]

#: File name of the checkpoint in the run folder.
CHECKPOINT = "checkpoint.npz"
#: File name of the history in the run folder.
HISTORY = "history.csv"


@dataclass
class RunOutput:
    """A run folder: ``history.csv``, the field series and ``checkpoint.npz``.

    Args:
        out_dir: The folder (created, on rank 0, when the loop opens it).
        restart: Continue the run in ``out_dir`` from its checkpoint.
    """

    out_dir: Path
    restart: bool = False

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir)

    @property
    def checkpoint(self) -> Path:
        """The checkpoint file."""
        return self.out_dir / CHECKPOINT

    def open(self, comm: MPI.Comm) -> None:
        """Create the folder (rank 0); every rank learns whether that worked (collective).

        Raises:
            OutputError: One line naming the folder and the reason, on every rank.
        """
        rank0_call(comm, lambda: self.out_dir.mkdir(parents=True, exist_ok=True), self.out_dir, "create")

    def history(self, columns: Sequence[str], comm: MPI.Comm, append: bool = False,
                truncate_after: int | None = None) -> HistoryWriter:
        """The ``history.csv`` writer (see :class:`~gpfem.io.history.HistoryWriter`)."""
        return HistoryWriter(self.out_dir / HISTORY, columns, comm, append=append,
                             truncate_after=truncate_after)

    def fields(self, functions: Sequence[fem.Function], fmt: str,
               restart_time: float | None = None) -> FieldWriter:
        """The field-series writer (see :class:`~gpfem.io.fields.FieldWriter`)."""
        return FieldWriter(self.out_dir, functions, fmt, restart_time=restart_time)

    def save_checkpoint(self, fields: Mapping[str, tuple[fem.Function, int | None]], meta: Mapping[str, Any],
                        extra: Mapping[str, np.ndarray] | None = None) -> None:
        """Write ``checkpoint.npz`` (see :func:`~gpfem.io.checkpoint.save_checkpoint`)."""
        save_checkpoint(self.checkpoint, fields, meta, extra=extra)

    def load_checkpoint(self, fields: Mapping[str, tuple[fem.Function, int | None]],
                        mesh: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Read ``checkpoint.npz`` (or its previous generation) into ``fields``; return its metadata.

        ``mesh``: this run's mesh-defining values, compared with the checkpoint's
        (:func:`~gpfem.io.checkpoint.load_checkpoint`).
        """
        return load_checkpoint(self.checkpoint, fields, mesh)

    def result(self, history: Any) -> dict[str, Any]:
        """What the loop's result adds: nothing (the history is in the folder)."""
        return {}


class MemoryHistory:
    """Keeps the history rows (the same on every rank: the values are reduced) for :meth:`arrays`."""

    def __init__(self, columns: Sequence[str]):
        self.columns = list(columns)
        self.rows: list[dict[str, Any]] = []

    def write(self, row: Mapping[str, Any]) -> None:
        """Keep one row (its columns only)."""
        self.rows.append({k: row.get(k) for k in self.columns})

    def arrays(self) -> dict[str, np.ndarray]:
        """Column -> numpy array over the rows: numbers as floats (NaN where missing), others as objects."""
        out = {}
        for k in self.columns:
            vals = [r[k] for r in self.rows]
            if all(v is None or isinstance(v, int | float | np.number) for v in vals):
                out[k] = np.array([math.nan if v is None else float(v) for v in vals])
            else:
                out[k] = np.array(vals, dtype=object)
        return out

    def close(self) -> None:
        """Nothing to close."""


class MemoryOutput:
    """No files: the history comes back as arrays (``result["history"]``), no fields, no checkpoints."""

    restart = False
    checkpoint = None

    def open(self, comm: MPI.Comm) -> None:
        """Nothing to create."""

    def history(self, columns: Sequence[str], comm: MPI.Comm, append: bool = False,
                truncate_after: int | None = None) -> MemoryHistory:
        """An in-memory history."""
        return MemoryHistory(columns)

    def fields(self, functions: Sequence[fem.Function], fmt: str,
               restart_time: float | None = None) -> FieldWriter:
        """A field writer that writes nothing."""
        return FieldWriter(".", functions, "none")

    def save_checkpoint(self, fields: Mapping[str, tuple[fem.Function, int | None]], meta: Mapping[str, Any],
                        extra: Mapping[str, np.ndarray] | None = None) -> None:
        """Nothing is written."""

    def load_checkpoint(self, fields: Mapping[str, tuple[fem.Function, int | None]],
                        mesh: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """There is no checkpoint to continue from.

        Raises:
            GpfemError: Always.
        """
        raise GpfemError("restart needs a run folder: pass output=RunOutput(out_dir, restart=True)")

    def result(self, history: HistoryWriter | MemoryHistory) -> dict[str, Any]:
        """``{"history": column -> array}``.

        Raises:
            TypeError: If ``history`` is not the :class:`MemoryHistory` that :meth:`history` made.
        """
        if not isinstance(history, MemoryHistory):
            raise TypeError(f"MemoryOutput.result takes a MemoryHistory, got {type(history).__name__}")
        return {"history": history.arrays()}


class RunFolder(Protocol):
    """A run folder as the command line's ``RunContext`` gives it (``restart``: a folder or ``None``)."""

    out_dir: Path


def as_output(output: RunOutput | MemoryOutput | RunFolder | None) -> RunOutput | MemoryOutput:
    """The output object :func:`~gpfem.drivers.timeloop.run_time_loop` writes to.

    ``None``: memory; a ``RunContext``-like object (``out_dir``, ``restart``: a folder or ``None``): a
    :class:`RunOutput` of its folder; an output object: itself.
    """
    if output is None:
        return MemoryOutput()
    if isinstance(output, RunOutput | MemoryOutput):
        return output
    return RunOutput(output.out_dir, restart=getattr(output, "restart", None) is not None)
