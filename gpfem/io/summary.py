"""``summary.json``: resolved parameters, versions, MPI size, wall time and final values."""

from __future__ import annotations

import json
import math
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpfem.io.collective import atomic_write_text, rank0_call

if TYPE_CHECKING:
    from mpi4py import MPI

__all__ = ["versions", "write_json"]


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item") and callable(obj.item):  # numpy / torch scalars
        try:
            obj = obj.item()
        except (ValueError, RuntimeError):
            return str(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    return obj


def write_json(path: str | Path, data: dict[str, Any], comm: MPI.Comm | None = None) -> None:
    """Write ``data`` as indented JSON on rank 0, atomically (write then rename).

    With ``comm`` every rank calls it (collective) and learns whether rank 0 succeeded.

    Raises:
        OutputError: On every rank, if the file could not be written (nothing is left half-written).
    """
    p = Path(path)
    rank0_call(comm, lambda: atomic_write_text(p, json.dumps(_clean(data), indent=2, sort_keys=False) + "\n"),
               p)


def versions() -> dict[str, str]:
    """Versions of Python and of the main libraries this process has imported (imports nothing)."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for mod in ("gpfem", "dolfinx", "petsc4py", "mpi4py", "numpy", "torch", "gmsh", "pyvista"):
        m = sys.modules.get(mod)
        if m is not None:
            out[mod] = str(getattr(m, "__version__", "?"))
    return out
