"""Command line: ``gpfem run | list | info | post``.

Bad input (unknown model, preset or key, wrong type, out-of-range value, missing or unreadable mesh, bad
TOML) ends with one line naming the parameter and exit code 2, before any solve; a fault of the environment
(disk full, no permission, a damaged checkpoint, the run folder in use) with one line naming the file and
the reason, exit code 1, on every rank (docs/faults.md). With ``png = true`` a run ends with the model's
pictures (its ``post``; a model without one gets a warning line), and ``gpfem post`` on a model without
post-processing says so and exits 0. Arguments with a single
leading dash (``-gpfem_ch_snes_monitor``, ``-gpfem_ch_ksp_type gmres``) go to PETSc. Progress goes through
the ``gpfem`` logger (:mod:`gpfem.base.log`), printed by rank 0: ``--quiet`` keeps warnings only, ``-v``
adds debug lines (every step).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
import time
import traceback
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from gpfem.app.parameters import load_config, parse_assignments, resolve
from gpfem.base.errors import GpfemError, MeshError, OutputError, ParameterError
from gpfem.io.collective import AGREED, rank0_call

__all__ = ["main"]

EXIT_INPUT = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def _split_petsc(argv: list[str]) -> tuple[list[str], list[str]]:
    """Separate PETSc options (single dash + letter, with an optional value) from gpfem's."""
    ours: list[str] = []
    petsc: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok.startswith("-") and not tok.startswith("--") and len(tok) > 2 and tok[1].isalpha():
            petsc.append(tok)
            if i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                petsc.append(argv[i + 1])
                i += 1
        else:
            ours.append(tok)
        i += 1
    return ours, petsc


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="gpfem",
        description="Finite elements for gradient-penalty energies. PETSc options "
        "(-gpfem_ch_snes_monitor, ...) may follow any command.",
    )
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a model or experiment")
    r.add_argument("model", help="model name (see 'gpfem list')")
    r.add_argument("--preset", help="preset name (default: the model's first)")
    r.add_argument("--config", help="TOML file with parameter values")
    r.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override one parameter (repeatable)")
    r.add_argument("--mesh", help="a .msh or .geo file replacing the preset's geometry")
    r.add_argument("--out", help="output folder (default: runs/<model>-<preset>-<time>)")
    r.add_argument("--restart", metavar="DIR", help="continue a stopped run in DIR")
    r.add_argument("--backend", default=None, help="PETSc backend: cpu | cuda | kokkos")
    r.add_argument("--force", action="store_true",
                   help="run even if the size estimate of the built-in mesh exceeds the free memory")
    r.add_argument("--quiet", "-q", action="store_true", help="no progress output (warnings only)")
    r.add_argument("--verbose", "-v", action="count", default=0, help="debug output: a line every step")
    ls = sub.add_parser("list", help="models (built-in and plug-ins), presets and parameters")
    ls.add_argument("model", nargs="?", help="show one model's parameters (a name, a file.py or module:SPEC)")
    sub.add_parser("info", help="versions, MPI size, the loaded PETSc, its packages and GPU backends")
    po = sub.add_parser("post", help="remake plots (and derived files) of a run folder")
    po.add_argument("run_dir")
    return ap


def _world() -> Any:
    from mpi4py import MPI

    return MPI.COMM_WORLD


def _init_petsc(petsc_args: list[str]) -> None:
    from mpi4py import MPI  # noqa: F401  (loads libmpi before PETSc)

    import petsc4py

    # PETSc's own SIGTERM/SIGINT handlers would abort the run; gpfem's (base.interrupt) checkpoint it.
    petsc4py.init([sys.argv[0], "-no_signal_handler", *petsc_args])


def _print_spec(spec: Any, detail: bool, origin: str = "") -> None:
    print(f"{spec.name}: {spec.description}" + (f"  [{origin}]" if origin else ""))
    print("  presets:")
    for i, pre in enumerate(spec.presets):
        mark = " (default)" if i == 0 else ""
        print(f"    {pre}{mark}: {spec.preset_help.get(pre, '')}")
    for old, new in spec.preset_aliases.items():
        print(f"    {old}: old name of {new}")
    if detail:
        print("  parameters (name, default, constraint: meaning):")
        for p in spec.parameters:
            c = p.describe()
            print(f"    {p.name} = {p.default!r}" + (f" [{c}]" if c else "") + f": {p.help}")
    else:
        print(f"  parameters: {', '.join(p.name for p in spec.parameters)}")
        print(f"  ('gpfem list {spec.name}' shows defaults and meanings)")


def cmd_list(model: str | None) -> int:
    """Print models (built-in, then installed plug-ins), presets and parameters."""
    from gpfem.app import registry

    if model:
        _print_spec(registry.get(model), True)
        return 0
    for name in registry.names():
        _print_spec(registry.get(name), False)
    for name, ep in registry.plugins().items():
        try:
            spec = registry.get(name)
        except GpfemError as e:  # a broken plug-in must not hide the others
            print(f"gpfem: warning: {e}", file=sys.stderr, flush=True)
            continue
        _print_spec(spec, False, f"plug-in {ep.value}")
    print("(a model in a file or module is not listed here: 'gpfem list path/to/model.py' or "
          "'gpfem list module:SPEC')")
    return 0


def cmd_info() -> int:
    """Print versions, MPI size, the loaded PETSc (library, configuration, packages) and backends."""
    comm = _world()
    import dolfinx

    from gpfem.fe.backend import available_backends, external_packages
    from gpfem.io.summary import versions

    if comm.rank == 0:
        from mpi4py import MPI

        from petsc4py import PETSc

        import gpfem
        from gpfem.fe.petsc_build import configure_summary, cuda_device_status, loaded_library

        backends = available_backends()
        info = {
            "gpfem": gpfem.__version__,
            "versions": versions(),
            "dolfinx": dolfinx.__version__,
            "petsc": ".".join(map(str, PETSc.Sys.getVersion())),
            "mpi": MPI.Get_library_version().splitlines()[0].strip(),
            "mpi_size": comm.size,
            "petsc_library": loaded_library(),
            "petsc_configure": configure_summary(),
            "petsc_external_packages": external_packages(),
            "backends": backends,
            "cuda_device": cuda_device_status() if backends["cuda"]
            else {"usable": False, "reason": "this PETSc has no CUDA"},
            "has_adios2 (VTX output)": dolfinx.io.has_adios2,
        }
        print(json.dumps(info, indent=2))
    return 0


def _resolve_run(args: argparse.Namespace, comm: Any) -> tuple[Any, str, dict[str, Any], Path, bool]:
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
    spec, preset, params, out, restart = _resolve_run(args, comm)
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


def cmd_post(run_dir: str) -> int:
    """Remake plots of a run folder (the model's ``post`` function)."""
    from gpfem.app import registry

    d = Path(run_dir)
    pfile = d / "params.json"
    if not pfile.exists():
        raise ParameterError("run_dir", f"{d} has no params.json (not a gpfem run folder)")
    saved = json.loads(pfile.read_text())
    spec = registry.get(saved.get("model_ref") or saved["model"])
    post = spec.poster()
    if post is None:  # not an error: the run folder is fine, there is just nothing to remake
        print(f"model '{spec.name}' has no post-processing; nothing to do")
        return 0
    made = post(d)
    print(f"wrote {', '.join(map(str, made)) or 'nothing'} in {d}")
    return 0


def _quiet_broken_pipe() -> int:
    """The reader of stdout went away (``gpfem list | head -3``): stop quietly, as ``cat`` would."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # Python's final flush of stdout must not fail again
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gpfem`` console script."""
    try:
        return _main(argv)
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except Exception as e:
        _abort_alone(e)
        raise


def _abort_alone(err: BaseException) -> None:
    """Under MPI, end the whole job on an error this rank may have alone (a bug): the others never wait.

    Errors every rank raised together (:func:`~gpfem.io.collective.rank0_call`) need no abort.
    """
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is None or not mpi.Is_initialized() or mpi.Is_finalized() or getattr(err, AGREED, False):
        return
    comm = mpi.COMM_WORLD
    if comm.size > 1:
        traceback.print_exc()
        print(f"gpfem: error: rank {comm.rank}: {type(err).__name__}: {err}; aborting the job",
              file=sys.stderr, flush=True)
        comm.Abort(1)


def _main(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ours, petsc = _split_petsc(argv)
    args = _parser().parse_args(ours)
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")
    try:
        if args.command == "list":
            code = cmd_list(args.model)
            sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at interpreter exit
            return code
        if args.command in ("run", "info", "post"):
            _init_petsc(petsc)
        if args.command == "info":
            return cmd_info()
        if args.command == "post":
            return cmd_post(args.run_dir)
        return cmd_run(args)
    except GpfemError as e:
        comm_rank = 0
        if "mpi4py" in sys.modules:
            comm_rank = sys.modules["mpi4py"].MPI.COMM_WORLD.rank
        if comm_rank == 0:
            print(f"gpfem: error: {e}", file=sys.stderr, flush=True)
        return EXIT_FAILED if isinstance(e, OutputError) else EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main())
