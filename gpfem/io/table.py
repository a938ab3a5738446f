"""A numeric table as CSV (one header line, full-precision numbers), written by rank 0."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gpfem.io.collective import atomic_write_text, rank0_call

if TYPE_CHECKING:
    from mpi4py import MPI

__all__ = ["write_table"]


def write_table(path: str | Path, columns: Sequence[str], data: np.ndarray | Sequence[Sequence[float]] | None,
                comm: MPI.Comm | None = None) -> Path:
    """Write the 2D array ``data`` under the header ``columns`` (rank 0 only; atomically).

    Args:
        path: The ``.csv`` file.
        columns: Column names (one per column of ``data``).
        data: Rows of numbers (``None`` on ranks other than 0 is fine).
        comm: MPI communicator or ``None`` (with one, every rank calls it: collective).

    Raises:
        ValueError: If the number of columns does not match ``data``.
        OutputError: On every rank, if the file could not be written.
    """
    p = Path(path)

    def write() -> None:
        arr = np.atleast_2d(np.asarray(data, dtype=float))
        if arr.size and arr.shape[1] != len(columns):
            raise ValueError(f"{p.name}: {len(columns)} columns named, data has {arr.shape[1]}")
        text = io.StringIO(newline="")
        w = csv.writer(text)
        w.writerow(columns)
        for row in arr:
            w.writerow([repr(float(v)) for v in row])
        atomic_write_text(p, text.getvalue())

    rank0_call(comm, write, p)
    return p
