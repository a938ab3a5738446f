"""``history.csv``: one row per accepted step, written by rank 0 and on disk after every row.

Nothing already on disk is ever destroyed: a restart that keeps the rows up to its checkpoint writes them
to a temporary file and renames it over ``history.csv`` (a kill at any moment leaves the old file or the
new one, never an empty one); a row that could not be written whole (disk full) is cut off again, so the
file never ends in a torn row. A torn or malformed row left by an older version or another program (a last
line without its end, a wrong number of columns, a step that is not a number) is dropped on reading, with a
warning on a restart.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpfem.base.log import logger
from gpfem.io.collective import atomic_write_text, os_error, rank0_call

if TYPE_CHECKING:
    from mpi4py import MPI

__all__ = ["HistoryWriter", "read_history"]


def _rank(comm: MPI.Comm | None) -> int:
    return 0 if comm is None else comm.rank


def _csv_line(values: Sequence[Any]) -> str:
    buf = io.StringIO(newline="")
    csv.writer(buf).writerow(values)
    return buf.getvalue()


class HistoryWriter:
    """Append-only CSV writer, safe under MPI (only rank 0 touches the file).

    With a communicator every rank calls the constructor and :meth:`write` (collective): a failed write
    raises the same :class:`~gpfem.base.errors.OutputError` on every rank.

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
        comm: MPI.Comm | None = None,
        append: bool = False,
        truncate_after: int | None = None,
    ):
        self.path = Path(path)
        self.columns = list(columns)
        self.comm = comm
        self._fd: int | None = None
        self._size = 0
        rank0_call(comm, lambda: self._open(append, truncate_after), self.path)

    def _open(self, append: bool, truncate_after: int | None) -> None:
        kept: list[dict[str, str]] = []
        if append and self.path.exists():
            try:
                kept, dropped = _read(self.path)
            except (OSError, UnicodeDecodeError, csv.Error) as e:
                raise os_error(self.path, e, "read") from e
            if dropped:
                logger.warning(f"{self.path}: dropped {len(dropped)} torn or malformed row(s): "
                               + "; ".join(repr(d[:60]) for d in dropped[:3]))
            if truncate_after is not None:
                kept = [r for r in kept if int(float(r["step"])) <= truncate_after]
        rows = (_csv_line([r.get(k, "") for k in self.columns]) for r in kept)
        text = _csv_line(self.columns) + "".join(rows)
        atomic_write_text(self.path, text)  # the old rows stay whole until the new file replaces them
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            self._size = os.fstat(self._fd).st_size
        except OSError as e:
            raise os_error(self.path, e) from e

    def write(self, row: Mapping[str, Any]) -> None:
        """Write one row (missing columns stay empty); it is in the file when this returns."""
        out = []
        for k in self.columns:
            v = row.get(k, "")
            if isinstance(v, float) and math.isfinite(v):
                v = repr(v)
            out.append(v)
        data = _csv_line(out).encode("utf-8")
        rank0_call(self.comm, lambda: self._append(data), self.path)

    def _append(self, data: bytes) -> None:
        if self._fd is None:
            return
        try:
            view = memoryview(data)
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
        except OSError:
            try:  # no torn row: cut the file back to its last whole row
                os.ftruncate(self._fd, self._size)
            except OSError:
                pass
            raise
        self._size += len(data)

    def close(self) -> None:
        """Close the file (this process's handle only; never raises)."""
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None

    def __enter__(self) -> HistoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read(path: Path) -> tuple[list[dict[str, str]], list[str]]:
    """The whole rows of a history CSV, and the dropped lines (torn, wrong column count, no number step)."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    dropped: list[str] = []
    if lines and not lines[-1].endswith(("\n", "\r")):  # the write of the last row was cut off
        dropped.append(lines.pop())
    rows = list(csv.reader(lines))
    if not rows:
        return [], dropped
    header, kept = rows[0], []
    for line, r in zip(lines[1:], rows[1:], strict=False):
        ok = len(r) == len(header)
        if ok and "step" in header:
            try:
                float(r[header.index("step")])
            except ValueError:
                ok = False
        if ok:
            kept.append(dict(zip(header, r, strict=True)))
        else:
            dropped.append(line.rstrip("\r\n"))
    return kept, dropped


def read_history(path: str | Path) -> list[dict[str, str]]:
    """Read a history CSV into a list of row dicts (strings); torn or malformed rows are left out."""
    return _read(Path(path))[0]
