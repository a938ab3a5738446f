"""Field time series that ParaView and pyvista open.

Default: VTKFile (``fields.pvd`` + ``.vtu``/``.pvtu`` pieces), readable by both the VTK wheel under pyvista
and Debian's ParaView. Option: VTX (``fields.bp``, ADIOS2) for large parallel runs, readable by
ParaView >= 5.10 built with ADIOS2 (not by pyvista).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gpfem.core.errors import ParameterError

__all__ = ["FORMATS", "FieldWriter"]

FORMATS = ("vtk", "vtx", "none")


class FieldWriter:
    """Write a fixed list of functions at chosen times.

    Args:
        out_dir: Output folder.
        functions: Functions to write (all on the same mesh; VTX needs them on one space type).
        fmt: ``vtk`` (default), ``vtx`` or ``none``.
        name: File stem.
        append: On restart, keep writing into an existing series (VTK starts a new ``.pvd``
            named ``<name>_restart<k>.pvd``; earlier pieces stay valid).
    """

    def __init__(
        self,
        out_dir: str | Path,
        functions: Sequence[Any],
        fmt: str = "vtk",
        name: str = "fields",
        append: bool = False,
    ):
        if fmt not in FORMATS:
            raise ParameterError("output_format", f"must be one of {', '.join(FORMATS)}")
        self.fmt = fmt
        self.functions = list(functions)
        self._writer = None
        if fmt == "none" or not self.functions:
            self.path = None
            return
        import dolfinx.io

        out = Path(out_dir)
        mesh = self.functions[0].function_space.mesh
        stem = name
        if append:
            k = 1
            while (out / f"{name}_restart{k}.pvd").exists() or (out / f"{name}_restart{k}.bp").exists():
                k += 1
            stem = f"{name}_restart{k}"
        if fmt == "vtk":
            self.path = out / f"{stem}.pvd"
            self._writer = dolfinx.io.VTKFile(mesh.comm, str(self.path), "w")
        else:
            if not dolfinx.io.has_adios2:
                raise ParameterError("output_format", "vtx needs DOLFINx built with ADIOS2")
            self.path = out / f"{stem}.bp"
            self._writer = dolfinx.io.VTXWriter(mesh.comm, str(self.path), self.functions)

    def write(self, t: float) -> None:
        """Write every function at time ``t`` (flushed: the series is readable after each call)."""
        if self._writer is None:
            return
        if self.fmt == "vtk":
            self._writer.write_function(self.functions, t)
        else:
            self._writer.write(t)

    def close(self) -> None:
        """Close the file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
