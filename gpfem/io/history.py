"""``history.csv``: one row per accepted step, written by rank 0 and flushed every row."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["HistoryWriter", "read_history"]


def _rank(comm: Any) -> int:
    return 0 if comm is None else comm.rank


class HistoryWriter:
    """Append-only CSV writer, safe under MPI (only rank 0 touches the file).

    Args:
        path: CSV file path.
        columns: Column names, in order.
        comm: MPI communicator or ``None``.
        append: Keep existing rows (restart); rows with ``step`` above ``truncate_after`` are dropped.
        truncate_after: On append, the last step to keep (rows of a crashed run beyond the checkpoint).
    """

    def __init__(
        self,
        path: str | Path,
        columns: Sequence[str],
        comm: Any = None,
        append: bool = False,
        truncate_after: int | None = None,
    ):
        self.path = Path(path)
        self.columns = list(columns)
        self._fh = None
        self._writer = None
        if _rank(comm) != 0:
            return
        kept: list[dict[str, str]] = []
        if append and self.path.exists():
            kept = read_history(self.path)
            if truncate_after is not None:
                kept = [r for r in kept if int(float(r["step"])) <= truncate_after]
        self._fh = self.path.open("w", newline="")
        self._writer = csv.DictWriter(self._fh, fieldnames=self.columns)
        self._writer.writeheader()
        for r in kept:
            self._writer.writerow({k: r.get(k, "") for k in self.columns})
        self._fh.flush()

    def write(self, row: Mapping[str, Any]) -> None:
        """Write one row (missing columns stay empty) and flush it to disk."""
        if self._writer is None or self._fh is None:
            return
        out = {}
        for k in self.columns:
            v = row.get(k, "")
            if isinstance(v, float) and math.isfinite(v):
                v = repr(v)
            out[k] = v
        self._writer.writerow(out)
        self._fh.flush()

    def close(self) -> None:
        """Close the file."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            self._writer = None

    def __enter__(self) -> HistoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_history(path: str | Path) -> list[dict[str, str]]:
    """Read a history CSV into a list of row dicts (strings)."""
    with Path(path).open(newline="") as fh:
        return list(csv.DictReader(fh))
