"""``gpfem run``: resolve the parameters, prepare and lock the run folder, run, write ``summary.json``.

Bad input ends with one line naming the parameter (exit code 2) before any solve; a fault of the
environment (disk full, no permission, a damaged checkpoint, the run folder in use) with one line naming
the file and the reason (exit code 1) on every rank (docs/faults.md); Ctrl-C/SIGTERM with a checkpoint
of the last accepted step (exit code 130). With ``png = true`` a run ends with the model's pictures.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from gpfem.app.parameters import load_config, parse_assignments, resolve
from gpfem.base.errors import GpfemError, MeshError, OutputError, ParameterError
from gpfem.io.collective import rank0_call

__all__ = ["EXIT_FAILED", "EXIT_INPUT", "EXIT_INTERRUPTED", "cmd_run", "resolve_run"]

EXIT_INPUT = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def _world() -> Any:
    from mpi4py import MPI

    return MPI.COMM_WORLD


def resolve_run(args: argparse.Namespace, comm: Any) -> tuple[Any, str, dict[str, Any], Path, bool]:
    """Everything checked before any work: spec, preset, parameters, mesh, out dir, backend."""
    from gpfem.app import registry

    restart = args.restart is not None
    sets = parse_assignments(args.sets)
    config = load_config(args.config) if args.config else {}
    if args.backend is None and "backend" in config:  # config key ``backend``; --backend wins
        args.backend = str(config.pop("backend"))
    config.pop("backend", None)
    spec = registry.get(args.model)
    if restart:
        rdir = Path(args.restart)
        pfile = rdir / "params.json"
        if not pfile.exists():
            raise ParameterError("restart", f"{rdir} has no params.json (not a gpfem run folder)")
        saved = _read_params(pfile)
        if saved["model"] != spec.name:
            raise ParameterError("restart", f"{rdir} is a '{saved['model']}' run, not '{spec.name}'")
        preset = saved["preset"]
        params = spec.resolve(saved["parameters"], config, sets, model=args.model)
        _check_same_mesh(spec, resolve(spec.parameters, saved["parameters"]), params, pfile)
        if args.mesh is not None and str(Path(args.mesh).resolve()) != saved.get("mesh"):
            was = saved.get("mesh") or "the built-in mesh"
            raise ParameterError("mesh", f"defines the mesh: a restart continues on {was} ({pfile}); start a "
                                 "new run with --out for another mesh")
        if args.mesh is None and saved.get("mesh"):
            args.mesh = saved["mesh"]
        out = rdir
    else:
        preset, pre_vals = spec.preset(args.preset)
        params = spec.resolve(pre_vals, config, sets, model=args.model)
        if args.out:
            out = Path(args.out)
        else:
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S") if comm.rank == 0 else None
            stamp = comm.bcast(stamp, root=0)
            out = Path("runs") / f"{spec.name}-{preset}-{stamp}"
    if args.mesh is not None:
        if not spec.uses_mesh:
            raise ParameterError("mesh", f"'{spec.name}' does not use a mesh")
        from gpfem.mesh.files import validate_mesh_file

        args.mesh = str(validate_mesh_file(args.mesh, comm).resolve())
    elif not restart:  # the built-in mesh: refuse what cannot fit this node's memory (docs: --force)
        from gpfem.app.size_check import check_size

        check_size(spec.size_estimate(params), comm, force=args.force)
    if args.backend is not None:
        from gpfem.fe.backend import set_active_backend

        set_active_backend(args.backend)  # checked here; applied to every solver built later
    return spec, preset, params, out, restart


def _read_params(pfile: Path) -> dict[str, Any]:
    """A run folder's ``params.json`` (every rank reads it).

    Raises:
        OutputError: If it cannot be read or is not a gpfem parameter file (truncated, edited by hand).
    """
    try:
        saved = json.loads(pfile.read_text())
        if not isinstance(saved, dict) or not {"model", "preset", "parameters"} <= set(saved):
            raise ValueError("not a gpfem parameter file")
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise OutputError(pfile, f"unreadable ({getattr(e, 'strerror', None) or e})", "read") from None
    return saved


def _check_same_mesh(spec: Any, saved: dict[str, Any], params: dict[str, Any], pfile: Path) -> None:
    """Refuse a restart that changes a parameter defining the mesh (the checkpoint holds its vertices)."""
    for key in spec.mesh_parameters:
        if key in params and params[key] != saved.get(key):
            raise ParameterError(key, f"defines the mesh: a restart cannot change it ({saved.get(key)!r} in "
                                 f"{pfile}, {params[key]!r} asked); start a new run with --out")


def _make_folder(out: Path, comm: Any) -> None:
    """Create the run folder (rank 0; collective verdict): a path through a file is bad input (exit 2)."""

    def make() -> None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            blocker = next((q for q in [out, *out.parents] if q.exists() and not q.is_dir()), out)
            where = "" if blocker == out else f"{out}: "
            raise ParameterError("out", f"{where}{blocker} is a file, not a folder") from None

    rank0_call(comm, make, out, "create")


def _model_ref(ref: str, spec: Any) -> str:
    """How to find the model again (``gpfem post``, ``--restart``): a file's absolute path, or as given."""
    if ref != spec.name and (ref.endswith(".py") or Path(ref).is_file()):
        return str(Path(ref).resolve())
    return ref


def cmd_run(args: argparse.Namespace) -> int:
    """Run a model; write params.json, history, fields and summary.json (the only writer of the latter).

    Rank 0 creates the run folder and holds its lock (:class:`~gpfem.io.lock.RunLock`) for the run's life;
    every rank-0 file action reports to all ranks, so a file error ends every rank with one line.
    """
    from gpfem.base.log import configure_logging
    from gpfem.io.lock import RunLock

    comm = _world()
    configure_logging(-1 if args.quiet else args.verbose, comm)
    spec, preset, params, out, restart = resolve_run(args, comm)
    _make_folder(out, comm)
    lock = RunLock(out, comm).acquire()  # one run at a time in a folder
    try:
        return _run_locked(args, comm, spec, preset, params, out, restart)
    finally:
        lock.release()


def _run_locked(args: argparse.Namespace, comm: Any, spec: Any, preset: str, params: dict[str, Any],
                out: Path, restart: bool) -> int:
    """The run, its ``params.json`` and ``summary.json``, in a folder that this process has locked."""
    from gpfem.app.registry import RunContext
    from gpfem.base.log import logger
    from gpfem.io.collective import watchdog
    from gpfem.io.summary import write_json

    log = logger.info
    if not restart:
        write_json(out / "params.json", {"model": spec.name, "model_ref": _model_ref(args.model, spec),
                                         "preset": preset, "parameters": params, "mesh": args.mesh}, comm)
    ctx = RunContext(out_dir=out, comm=comm, mesh_file=Path(args.mesh) if args.mesh else None,
                     restart=out if restart else None, preset=preset,
                     extra={"backend": args.backend or "cpu"},
                     mesh_values={**{k: params[k] for k in spec.mesh_parameters if k in params},
                                  "mesh_file": args.mesh})
    log(f"gpfem run {spec.name} --preset {preset} -> {out}  ({comm.size} MPI rank(s))")
    t0 = time.perf_counter()
    status, code = "completed", 0
    results: dict[str, Any] = {}
    from gpfem.base.interrupt import graceful_stop

    try:
        with graceful_stop():
            results = spec.runner()(params, ctx) or {}
        if ctx.stopped:  # e.g. max_steps reached before the end: not a completed run
            status = f"stopped ({ctx.stopped})"
    except GpfemError as e:
        # bad input found once the run had started (a mesh file gmsh cannot read, a boundary group the
        # mesh lacks, a parameter checked against the mesh) is still bad input: exit code 2
        bad_input = isinstance(e, ParameterError | MeshError)
        status, code = f"failed: {e}", EXIT_INPUT if bad_input else EXIT_FAILED
        if comm.rank == 0:
            print(f"gpfem: error: {e}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        status, code = "interrupted", EXIT_INTERRUPTED
        log(f"interrupted: outputs so far are in {out}; continue with: "
            f"gpfem run {args.model} --restart {out}")
    if code == 0 and params.get("png") is True and not {"png", "post_files"} & results.keys():
        results = {**results, **_pictures(spec, out, comm)}
    with watchdog(comm, 30.0) if code else nullcontext():
        return _finish(comm, spec, preset, params, args, out, restart, t0, status, results, code, ctx.stopped)


def _read_summary(sfile: Path) -> dict[str, Any]:
    """The first part's ``summary.json`` that a restart adds to (``{}`` if missing or unreadable)."""
    try:
        data = json.loads(sfile.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, UnicodeDecodeError, ValueError):
        return {}


def _finish(comm: Any, spec: Any, preset: str, params: dict[str, Any], args: argparse.Namespace, out: Path,
            restart: bool, t0: float, status: str, results: dict[str, Any], code: int,
            stopped: str | None = None) -> int:
    """Write ``summary.json`` (collective); after a failure a failed write is not a second error."""
    from gpfem.base.log import logger
    from gpfem.io.summary import versions, write_json

    log = logger.info
    wall = comm.allreduce(time.perf_counter() - t0, op=_max())
    sfile = out / "summary.json"
    previous = {}
    if restart:  # a restart adds to the first part's summary
        previous = rank0_call(comm, lambda: _read_summary(sfile), sfile, "read", share=True) or {}
    summary = {
        **previous,
        "model": spec.name,
        "preset": preset,
        "status": status,
        "parameters": params,
        "mesh": args.mesh,
        "mpi_size": comm.size,
        "wall_time_s": wall,
        "restarted": restart,
        "versions": versions(),
        "results": {**previous.get("results", {}), **results},
    }
    try:
        write_json(sfile, summary, comm)
    except OutputError:
        if code == 0:
            raise
    if code == 0 and stopped == "max_steps":
        log(f"{status} after {wall:.1f} s; outputs in {out}; continue with: "
            f"gpfem run {args.model} --restart {out} --set max_steps=0")
    elif code == 0:
        log(f"done in {wall:.1f} s; outputs in {out}")
    return code


def _pictures(spec: Any, out: Path, comm: Any) -> dict[str, Any]:
    """``png = true`` and the run made no pictures itself: the spec's ``post`` makes them (every rank calls).

    Returns:
        ``{"png": [files]}`` for the summary's results, or ``{}`` (no ``post``, or it failed: a warning).
    """
    from gpfem.base.log import logger

    try:
        post = spec.poster()
        if post is None:
            logger.warning(f"model '{spec.name}' has no post-processing: png = true makes no pictures")
            return {}
        return {"png": [str(f) for f in post(out, comm) or []]}
    except Exception as e:  # the run's results stand; only the pictures are missing
        logger.warning(f"post-processing of '{spec.name}' failed ({type(e).__name__}: {e}); no pictures")
        return {}


def _max() -> Any:
    from mpi4py import MPI

    return MPI.MAX


