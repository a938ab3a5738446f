"""Checkpoints that restart on any number of ranks.

Each degree of freedom of a P1 field (scalar or blocked, or a P1 sub-space of a mixed space) sits on a mesh
vertex; vertices keep their *input* index (the order of the mesh file) whatever the partition. A
checkpoint stores values sorted by that index in one ``.npz`` written by rank 0, so a run started on 2
ranks can continue on 1 or 4, as long as the mesh is rebuilt from the same source.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gpfem.core.errors import GpfemError
from gpfem.mesh.vertices import gather_by_input_index, vertex_input_ids

__all__ = ["load_checkpoint", "read_checkpoint_arrays", "save_checkpoint"]


def _space_and_map(u: Any, sub: int | None) -> tuple[Any, np.ndarray]:
    V = u.function_space
    if sub is None:
        n = V.dofmap.index_map.size_local + V.dofmap.index_map.num_ghosts
        return V, np.arange(n * V.dofmap.index_map_bs, dtype=np.int64)
    Vi, dofs = V.sub(sub).collapse()
    return Vi, np.asarray(dofs, dtype=np.int64)


def save_checkpoint(
    path: str | Path,
    fields: Mapping[str, tuple[Any, int | None]],
    meta: Mapping[str, Any],
    extra: Mapping[str, np.ndarray] | None = None,
) -> None:
    """Write fields and metadata (time, dt, step, ...) to ``path`` atomically.

    Args:
        path: ``.npz`` file.
        fields: Name -> ``(function, sub)`` where ``sub`` is the sub-space index of a mixed space or None.
        meta: JSON-serialisable metadata.
        extra: More arrays for the same file, as rank 0 holds them (e.g. an adapted mesh,
            :func:`gpfem.amr.store.mesh_arrays`); their names must not clash with the fields'.
    """
    comm = next(iter(fields.values()))[0].function_space.mesh.comm
    arrays: dict[str, np.ndarray] = {}
    for name, (u, sub) in fields.items():
        V, dofs = _space_and_map(u, sub)
        ids, bs, n_owned = vertex_input_ids(V)
        blocks = dofs.reshape(-1, bs)[:n_owned]
        vals = u.x.array[blocks.ravel()].reshape(-1, bs)
        rows = gather_by_input_index(comm, ids[:n_owned], vals, f"checkpoint of '{name}'")
        if rows is not None:
            arrays[name] = rows
    if comm.rank == 0:
        p = Path(path)
        tmp = p.with_name(p.stem + ".tmp.npz")
        clash = set(arrays) & set(extra or {})
        if clash:
            raise GpfemError(f"checkpoint: extra arrays clash with fields {sorted(clash)}")
        every = {"__meta__": np.array(json.dumps(dict(meta))), **arrays, **dict(extra or {})}
        np.savez(tmp, **every)  # type: ignore[arg-type]  # numpy's stub types ** as its bool keywords
        os.replace(tmp, p)
    comm.barrier()


def load_checkpoint(
    path: str | Path,
    fields: Mapping[str, tuple[Any, int | None]],
) -> dict[str, Any]:
    """Read a checkpoint into the given functions; return its metadata.

    Raises:
        GpfemError: If the file is missing or does not match the mesh.
    """
    comm = next(iter(fields.values()))[0].function_space.mesh.comm
    p = Path(path)
    # Only the metadata and the fields go to every rank (not, e.g., an adapted mesh stored beside them).
    data = comm.bcast(_read_on_rank0(p, comm, lambda k: k == "__meta__" or k in fields), root=0)
    if isinstance(data, str):
        raise GpfemError(data)
    meta = json.loads(str(data["__meta__"]))
    for name, (u, sub) in fields.items():
        if name not in data:
            raise GpfemError(f"checkpoint {p} has no field '{name}'")
        V, dofs = _space_and_map(u, sub)
        ids, bs, _ = vertex_input_ids(V)
        vals = data[name]
        if vals.shape[0] <= ids.max() or vals.shape[1] != bs:
            raise GpfemError(f"checkpoint {p} does not match this mesh/field '{name}'")
        u.x.array[dofs.reshape(-1, bs).ravel()] = vals[ids].ravel()
        u.x.scatter_forward()
    return meta


def read_checkpoint_arrays(path: str | Path, comm: Any, prefix: str) -> dict[str, np.ndarray] | None:
    """The arrays of a checkpoint whose names start with ``prefix``, read by rank 0 (collective).

    Returns:
        On rank 0 the arrays (``{}`` elsewhere); ``None`` on every rank if the file holds none.

    Raises:
        GpfemError: If the file is missing.
    """
    data = _read_on_rank0(Path(path), comm, lambda k: k.startswith(prefix))
    status = comm.bcast(data if isinstance(data, str) else bool(data), root=0)
    if isinstance(status, str):
        raise GpfemError(status)
    if not status:
        return None
    return data if isinstance(data, dict) else {}  # rank 0: the arrays; elsewhere nothing was read


def _read_on_rank0(p: Path, comm: Any, keep: Callable[[str], bool]) -> dict[str, np.ndarray] | str | None:
    """On rank 0: the arrays of ``p`` whose names ``keep`` accepts, or why not; ``None`` on other ranks."""
    if comm.rank != 0:
        return None
    if not p.exists():
        return f"no checkpoint at {p}"
    with np.load(p) as z:
        return {k: z[k] for k in z.files if keep(k)}
