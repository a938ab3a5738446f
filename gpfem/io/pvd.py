"""A ParaView collection index (``.pvd``) that is valid after every write.

DOLFINx's ``VTKFile`` writes the ``.pvtu``/``.vtu`` pieces of each time at once, but its ``.pvd`` only when
the file is closed: a run that is killed leaves pieces and no index. :class:`PvdIndex` keeps the list of
``(time, file)`` entries itself and rewrites the index (write to a temporary file, then rename) after each
entry, so ParaView and pyvista can open the series while the run goes on or after it died. On restart the
entries after the checkpoint time are dropped and the series goes on in the same file.

Only rank 0 touches the file; the other ranks keep an empty list. With a communicator every rank calls
the constructor and :meth:`PvdIndex.add` (collective): a failed write raises the same
:class:`~gpfem.base.errors.OutputError` on every rank (:func:`~gpfem.io.collective.rank0_call`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from gpfem.base.errors import OutputError
from gpfem.io.collective import atomic_write_text, rank0_call

__all__ = ["PvdIndex", "read_pvd", "vtk_piece_files"]


def read_pvd(path: str | Path) -> list[tuple[float, str]]:
    """The ``(time, file)`` entries of a ``.pvd`` collection, in file order (``[]`` if it is missing).

    Raises:
        ET.ParseError: If the file exists but is not XML.
    """
    p = Path(path)
    if not p.exists():
        return []
    root = ET.parse(p).getroot()
    return [(float(d.get("timestep", "0")), str(d.get("file"))) for d in root.iter("DataSet")]


def vtk_piece_files(pvtu: str | Path) -> list[Path]:
    """The ``.vtu`` pieces a ``.pvtu`` file names (paths next to it); ``[]`` if it cannot be read."""
    p = Path(pvtu)
    try:
        root = ET.parse(p).getroot()
    except (OSError, ET.ParseError):
        return []
    return [p.parent / str(piece.get("Source")) for piece in root.iter("Piece") if piece.get("Source")]


class PvdIndex:
    """The ``.pvd`` index of a field series, rewritten atomically by rank 0 after every entry.

    Args:
        path: The ``.pvd`` file.
        comm: MPI communicator (``None``: this process writes).
        keep_until: Continue an existing index: keep its entries with time ``<= keep_until`` (the
            checkpoint time of a restart) and drop the later ones, deleting their files. ``None``: start a
            new index.
    """

    def __init__(self, path: str | Path, comm: Any = None, keep_until: float | None = None):
        self.path = Path(path)
        self.comm = comm
        self.entries: list[tuple[float, str]] = []
        self.dropped: list[tuple[float, str]] = []
        rank0_call(comm, lambda: self._start(keep_until), self.path)

    def _start(self, keep_until: float | None) -> None:
        if keep_until is not None:
            tol = 1e-12 * max(1.0, abs(keep_until))
            try:
                old = read_pvd(self.path)
            except ET.ParseError as e:
                raise OutputError(self.path, f"not a ParaView collection ({e})", "read") from e
            for t, f in old:
                (self.entries if t <= keep_until + tol else self.dropped).append((t, f))
            for _, f in self.dropped:
                self._remove(self.path.parent / f)
        self._write()

    @staticmethod
    def _remove(data_file: Path) -> None:
        pieces = vtk_piece_files(data_file) if data_file.suffix == ".pvtu" else []
        for f in [*pieces, data_file]:
            f.unlink(missing_ok=True)

    def add(self, t: float, data_file: str | Path) -> None:
        """Append the entry ``(t, data_file)`` (a path relative to the index's folder) and rewrite."""
        def add() -> None:
            self.entries.append((float(t), Path(data_file).as_posix()))
            try:
                self._write()
            except BaseException:
                self.entries.pop()  # the file still holds the entries before this one
                raise

        rank0_call(self.comm, add, self.path)

    def _write(self) -> None:
        lines = ['<?xml version="1.0"?>', '<VTKFile type="Collection" version="1.0">', "  <Collection>"]
        lines += [f'    <DataSet timestep="{t!r}" part="0" file="{f}" />' for t, f in self.entries]
        lines += ["  </Collection>", "</VTKFile>", ""]
        atomic_write_text(self.path, "\n".join(lines))
