"""Checkpoints that restart on any number of ranks, in two generations.

Each degree of freedom of a P1 field (scalar or blocked, or a P1 sub-space of a mixed space) sits on a mesh
vertex; vertices keep their *input* index (the order of the mesh file) whatever the partition. A
checkpoint stores values sorted by that index in one ``.npz`` written by rank 0, so a run started on 2
ranks can continue on 1 or 4, as long as the mesh is rebuilt from the same source.

A new checkpoint is written to ``checkpoint.tmp.npz`` and flushed to disk; then the one before becomes
``checkpoint.prev.npz`` (unless it is damaged) and the new one ``checkpoint.npz`` (two renames). A write that
fails (disk full) removes its temporary file and leaves both generations as they were. A restart reads
``checkpoint.npz`` and falls back to ``checkpoint.prev.npz``, with a warning, when the newest is missing or
unreadable (truncated, overwritten); both are checked against the mesh exactly (the vertex count, and the
mesh-defining parameters stored with them, see :func:`load_checkpoint`).
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gpfem.base.errors import GpfemError, OutputError, ParameterError
from gpfem.base.log import logger
from gpfem.io.collective import atomic_write, rank0_call
from gpfem.mesh.vertices import gather_by_input_index, vertex_input_ids

if TYPE_CHECKING:
    from mpi4py import MPI

    from dolfinx import fem

__all__ = ["MESH_KEY", "load_checkpoint", "previous", "read_checkpoint_arrays", "save_checkpoint"]

#: Metadata key of the mesh-defining values a checkpoint was written with (compared on restart).
MESH_KEY = "mesh"


def previous(path: str | Path) -> Path:
    """The previous generation of a checkpoint: ``checkpoint.npz`` -> ``checkpoint.prev.npz``."""
    p = Path(path)
    return p.with_name(f"{p.stem}.prev{p.suffix}")


def _space_and_map(u: Any, sub: int | None) -> tuple[Any, np.ndarray]:
    V = u.function_space
    if sub is None:
        n = V.dofmap.index_map.size_local + V.dofmap.index_map.num_ghosts
        return V, np.arange(n * V.dofmap.index_map_bs, dtype=np.int64)
    Vi, dofs = V.sub(sub).collapse()
    return Vi, np.asarray(dofs, dtype=np.int64)


def save_checkpoint(
    path: str | Path,
    fields: Mapping[str, tuple[fem.Function, int | None]],
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
    p = Path(path)

    def write() -> None:
        clash = set(arrays) & set(extra or {})
        if clash:
            raise GpfemError(f"checkpoint: extra arrays clash with fields {sorted(clash)}")
        payload: dict[str, Any] = {"__meta__": np.array(json.dumps(dict(meta))), **arrays,
                                   **dict(extra or {})}

        def keep_previous() -> None:
            if zipfile.is_zipfile(p):  # the last good one stays, as the previous generation
                os.replace(p, previous(p))

        atomic_write(p, lambda fh: np.savez(fh, **payload), tmp=p.with_name(p.stem + ".tmp.npz"),
                     before_replace=keep_previous)

    rank0_call(comm, write, p)


def load_checkpoint(
    path: str | Path,
    fields: Mapping[str, tuple[fem.Function, int | None]],
    mesh: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Read a checkpoint into the given functions; return its metadata.

    Reads ``path``, or its previous generation (:func:`previous`) with a warning if ``path`` is missing or
    unreadable. The checkpoint must match the mesh exactly: one row per mesh vertex for every field, and, if
    both are given, the same mesh-defining values (``mesh`` here, the metadata key :data:`MESH_KEY` there).

    Args:
        path: The ``.npz`` file.
        fields: Name -> ``(function, sub)``, as for :func:`save_checkpoint`.
        mesh: The mesh-defining values of this run (e.g. ``{"nx": 24, "ny": 24}``), or ``None``.

    Raises:
        OutputError: If neither generation exists or can be read.
        ParameterError: (``restart``) If the checkpoint was written for another mesh.
    """
    comm = next(iter(fields.values()))[0].function_space.mesh.comm
    # Only the metadata and the fields go to every rank (not, e.g., an adapted mesh stored beside them).
    def wanted(k: str) -> bool:
        return k == "__meta__" or k in fields

    used, data = rank0_call(comm, lambda: _read_on_rank0(Path(path), wanted), path, "read", share=True)
    meta = json.loads(str(data["__meta__"]))
    saved = meta.get(MESH_KEY)
    if mesh is not None and saved is not None:
        now = json.loads(json.dumps(dict(mesh)))
        diff = [k for k in sorted(set(now) | set(saved)) if now.get(k) != saved.get(k)]
        if diff:
            pairs = ", ".join(f"{k} = {saved.get(k)!r} there, {now.get(k)!r} here" for k in diff)
            raise ParameterError("restart", f"checkpoint {used} was written for another mesh ({pairs}); "
                                 "restart with the run's own parameters, or start a new run")
    for name, (u, sub) in fields.items():
        if name not in data:
            raise ParameterError("restart", f"checkpoint {used} has no field '{name}'")
        V, dofs = _space_and_map(u, sub)
        ids, bs, _ = vertex_input_ids(V)
        vals = data[name]
        n_vertices = V.mesh.geometry.index_map().size_global
        if vals.ndim != 2 or vals.shape[0] != n_vertices or vals.shape[1] != bs:
            block = vals.shape[1] if vals.ndim == 2 else "?"
            raise ParameterError("restart", f"checkpoint {used} holds {vals.shape[0]} vertex values of "
                                 f"'{name}' (block {block}), this mesh has {n_vertices} vertices "
                                 f"(block {bs}): it was written for another mesh")
        u.x.array[dofs.reshape(-1, bs).ravel()] = vals[ids].ravel()
        u.x.scatter_forward()
    return meta


def read_checkpoint_arrays(path: str | Path, comm: MPI.Comm, prefix: str) -> dict[str, np.ndarray] | None:
    """The arrays of a checkpoint whose names start with ``prefix``, read by rank 0 (collective).

    The generation read is the one :func:`load_checkpoint` reads (the newest readable one).

    Returns:
        On rank 0 the arrays (``{}`` elsewhere); ``None`` on every rank if the file holds none.

    Raises:
        OutputError: If neither generation exists or can be read.
    """
    found: dict[str, Any] = {}

    def read() -> bool:
        found.update(_read_on_rank0(Path(path), lambda k: k.startswith(prefix))[1])
        return bool(found)

    if not rank0_call(comm, read, path, "read", share=True):
        return None
    return found if comm.rank == 0 else {}


_warned: set[str] = set()


def _load_all(p: Path) -> dict[str, np.ndarray]:
    """Every array of ``p`` (read whole, so that a damaged member shows now); its metadata must parse."""
    with np.load(p) as z:
        data = {k: z[k] for k in z.files}
    json.loads(str(data["__meta__"]))
    return data


def _read_on_rank0(p: Path, keep: Callable[[str], bool]) -> tuple[Path, dict[str, np.ndarray]]:
    """The newest readable generation of ``p`` and its arrays whose names ``keep`` accepts (rank 0).

    Raises:
        OutputError: If no generation can be read (the newest one's reason).
    """
    why: dict[Path, str] = {}
    for cand in (p, previous(p)):
        if not cand.exists():
            why[cand] = "no such file"
            continue
        try:
            data = _load_all(cand)
        except Exception as e:  # noqa: BLE001 - truncated, empty, random bytes: every way is "unreadable"
            text = str(e).replace("\n", " ").split(". ")[0]
            why[cand] = f"unreadable ({type(e).__name__}: {text[:80]})"
            continue
        if cand != p:
            state = "missing" if why[p] == "no such file" else why[p]
            step = json.loads(str(data["__meta__"])).get("step", "?")
            msg = f"{p} is {state}; restarting from the previous checkpoint {cand} (step {step})"
            if msg not in _warned:  # the mesh and the fields of one restart are read in two calls
                _warned.add(msg)
                logger.warning(msg)
        return cand, {k: v for k, v in data.items() if keep(k)}
    if why[p] == "no such file" and why[previous(p)] == "no such file":
        raise OutputError(p, "no such file (the run wrote no checkpoint)", "read")
    reason = why[p] if why[p] != "no such file" else why[previous(p)]
    raise OutputError(p, f"{reason}; {previous(p).name}: {why[previous(p)]}", "read")
