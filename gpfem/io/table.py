"""A numeric table as CSV (one header line, full-precision numbers), written by rank 0."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["write_table"]


def write_table(path: str | Path, columns: Sequence[str], data: Any, comm: Any = None) -> Path:
    """Write the 2D array ``data`` under the header ``columns`` (rank 0 only; atomically).

    Args:
        path: The ``.csv`` file.
        columns: Column names (one per column of ``data``).
        data: Rows of numbers (``None`` on ranks other than 0 is fine).
        comm: MPI communicator or ``None``.

    Raises:
        ValueError: If the number of columns does not match ``data``.
    """
    p = Path(path)
    if comm is not None and comm.rank != 0:
        return p
    arr = np.atleast_2d(np.asarray(data, dtype=float))
    if arr.size and arr.shape[1] != len(columns):
        raise ValueError(f"{p.name}: {len(columns)} columns named, data has {arr.shape[1]}")
    tmp = p.with_name(p.name + ".tmp")
    with tmp.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for row in arr:
            w.writerow([repr(float(v)) for v in row])
    os.replace(tmp, p)
    return p
