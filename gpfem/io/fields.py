"""Field time series that ParaView and pyvista open, during a run, after it was killed, across restarts.

Default ``vtk``: ``fields.pvd`` (the index, rewritten after every output by :class:`~gpfem.io.pvd.PvdIndex`)
and its pieces in ``fields/`` (``.pvtu`` + one ``.vtu`` per rank, written by DOLFINx's ``VTKFile``).
Readable by the VTK wheel under pyvista and by ParaView. A restart keeps the entries up to the checkpoint
time and continues the same ``fields.pvd``.

Option ``vtx``: ADIOS2 (``fields.bp``) for large parallel runs, readable by ParaView >= 5.10 built with
ADIOS2 (not by pyvista); a restart writes ``fields_restart<k>.bp``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpfem.base.errors import GpfemError, OutputError, ParameterError
from gpfem.io.collective import agree, rank0_call
from gpfem.io.pvd import PvdIndex, vtk_piece_files

if TYPE_CHECKING:
    from dolfinx import fem

__all__ = ["FORMATS", "FieldWriter"]

FORMATS = ("vtk", "vtx", "none")


def _probe(folder: Path) -> str | None:
    """The operating system's reason why ``folder`` takes no new data (``None``: it does)."""
    probe = folder / f".gpfem-probe-{os.getpid()}"
    try:
        with probe.open("wb") as fh:
            fh.write(b"\0" * 65536)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as e:
        return e.strerror or str(e)
    finally:
        try:
            probe.unlink(missing_ok=True)
        except OSError:
            pass
    return None


def _whole(f: Path) -> bool:
    """Whether ``f`` is a VTK XML file written to its end (DOLFINx does not report every failed write)."""
    try:
        with f.open("rb") as fh:
            fh.seek(max(0, f.stat().st_size - 64))
            return b"</VTKFile>" in fh.read()
    except OSError:
        return False


def _check_pieces(pvtu: Path) -> None:
    """Rank 0: the ``.pvtu`` of one output and each rank's ``.vtu`` it names are on disk whole.

    Raises:
        OutputError: Naming the first file that is missing or cut short, and the reason.
    """
    for f in [pvtu, *vtk_piece_files(pvtu)] if _whole(pvtu) else [pvtu]:
        if not _whole(f):
            raise OutputError(f, _probe(f.parent) or "missing or cut short (DOLFINx did not finish it)")


def _dolfinx_call(comm: Any, fn: Any, target: Path) -> Any:
    """Run a collective DOLFINx output call on every rank; a failure on any rank is raised on all.

    DOLFINx reports a failed write as a ``RuntimeError`` without the operating system's reason; it is found
    by writing a small probe file in the same folder (``No space left on device``, ``Permission denied``).
    """
    result, err = None, None
    try:
        result = fn()
    except OSError as e:
        err = OutputError(target, e.strerror or str(e))
    except RuntimeError as e:
        err = OutputError(target, _probe(target.parent) or str(e).strip().splitlines()[0])
    agree(comm, err)
    return result


class FieldWriter:
    """Write a fixed list of functions at chosen times.

    Args:
        out_dir: Output folder.
        functions: Functions to write (all on the same mesh; VTX needs them on one space type).
        fmt: ``vtk`` (default), ``vtx`` or ``none``.
        name: Stem of the index (``<name>.pvd``) and of the pieces' folder (``<name>/``).
        restart_time: Continue the series of a previous run from its checkpoint at this time: entries
            after it are dropped (and their files deleted). ``None``: start a new series.
    """

    def __init__(
        self,
        out_dir: str | Path,
        functions: Sequence[fem.Function],
        fmt: str = "vtk",
        name: str = "fields",
        restart_time: float | None = None,
    ):
        if fmt not in FORMATS:
            raise ParameterError("output_format", f"must be one of {', '.join(FORMATS)}")
        self.fmt = fmt
        self.functions = list(functions)
        self._writer = None
        self.path: Path | None = None
        if fmt == "none" or not self.functions:
            return
        import dolfinx.io

        out = Path(out_dir)
        self.comm = self.functions[0].function_space.mesh.comm
        if fmt == "vtx":
            if not dolfinx.io.has_adios2:
                raise ParameterError("output_format", "vtx needs DOLFINx built with ADIOS2")
            stem = name
            if restart_time is not None:
                k = 1
                while (out / f"{name}_restart{k}.bp").exists():
                    k += 1
                stem = f"{name}_restart{k}"
            self.path = out / f"{stem}.bp"
            self._writer = _dolfinx_call(
                self.comm, lambda: dolfinx.io.VTXWriter(self.comm, str(self.path), self.functions), self.path)
            return
        self.path = out / f"{name}.pvd"
        self._pieces = out / name
        rank0_call(self.comm, lambda: self._pieces.mkdir(parents=True, exist_ok=True), self._pieces, "create")
        self.index = PvdIndex(self.path, self.comm, keep_until=restart_time)

        def tidy() -> int | None:
            self._remove_orphans(out)  # a new series keeps no piece, a restart those up to its checkpoint
            if restart_time is None:
                return None
            k = 1  # pieces of this session get their own stem: fields_r<k>
            while (self._pieces / f"{name}_r{k}000000.pvtu").exists():
                k += 1
            return k

        session = rank0_call(self.comm, tidy, self._pieces, share=True)
        self._stem = name if session is None else f"{name}_r{session}"
        self._count = 0
        target = self._pieces / f"{self._stem}.pvd"
        self._writer = _dolfinx_call(self.comm, lambda: dolfinx.io.VTKFile(self.comm, str(target), "w"),
                                     target)

    def set_functions(self, functions: Sequence[fem.Function]) -> None:
        """Write these functions from now on (after a mesh adaptation: new functions on a new mesh).

        ``vtk``: the next pieces hold the new mesh (each piece carries its own mesh, so ParaView and pyvista
        show the changing mesh in one series). ``vtx``: an ADIOS2 file holds one mesh per writer, so a new
        file ``<name>_mesh<k>.bp`` starts (:attr:`path` names the current one).
        """
        new = list(functions)
        if len(new) == len(self.functions) and all(a is b for a, b in zip(new, self.functions, strict=True)):
            return
        self.functions = new
        if self._writer is None or self.fmt != "vtx":
            return
        assert self.path is not None  # set with the writer
        import dolfinx.io

        _dolfinx_call(self.comm, self._writer.close, self.path)
        self._mesh_count = getattr(self, "_mesh_count", 0) + 1
        base = self.path.stem.split("_mesh")[0]
        self.path = self.path.with_name(f"{base}_mesh{self._mesh_count}.bp")
        self._writer = _dolfinx_call(
            self.comm, lambda: dolfinx.io.VTXWriter(self.comm, str(self.path), self.functions), self.path)

    def _remove_orphans(self, out: Path) -> None:
        """Delete the pieces the index does not name.

        A new series names none (an earlier run's pieces go); a restart names those up to its checkpoint (a
        killed run may have written a piece and died before its entry).
        """
        kept = {(out / f).resolve() for _, f in self.index.entries}
        referenced = {p.resolve() for f in kept for p in vtk_piece_files(f)}
        for f in self._pieces.glob("*.pvtu"):
            if f.resolve() not in kept and not f.is_dir():
                f.unlink(missing_ok=True)
        for f in [*self._pieces.glob("*.vtu"), *self._pieces.glob("*.pvd")]:
            if f.resolve() not in referenced and not f.is_dir():
                f.unlink(missing_ok=True)

    def write(self, t: float) -> None:
        """Write every function at time ``t``; the series (index included) is readable on return."""
        if self._writer is None:
            return
        assert self.path is not None  # set with the writer
        if self.fmt == "vtx":
            _dolfinx_call(self.comm, lambda: self._writer.write(t), self.path)
            return
        piece = self._pieces / f"{self._stem}{self._count:06d}.pvtu"
        _dolfinx_call(self.comm, lambda: self._writer.write_function(self.functions, t), piece)
        self._count += 1
        # every rank's .vtu is on disk (agreed above) before rank 0 checks them and the index names them
        rank0_call(self.comm, lambda: _check_pieces(piece), piece)
        self.index.add(t, piece.relative_to(self.path.parent))

    def close(self) -> None:
        """Close the file (VTK: DOLFINx's own per-session ``.pvd`` in the pieces' folder is removed).

        Collective. Raises nothing: it also runs after a failed write, whose error is the one to report.
        """
        if self._writer is None:
            return
        assert self.path is not None  # set with the writer
        writer, self._writer = self._writer, None
        try:
            _dolfinx_call(self.comm, writer.close, self.path)
        except GpfemError:
            pass
        del writer  # DOLFINx writes its .pvd again when the object goes: before the removal below
        if self.fmt == "vtk":

            def remove() -> None:
                (self._pieces / f"{self._stem}.pvd").unlink(missing_ok=True)

            try:
                rank0_call(self.comm, remove, self._pieces)
            except GpfemError:
                pass
