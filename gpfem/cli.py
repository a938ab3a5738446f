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
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from gpfem.app.run_command import EXIT_FAILED, EXIT_INPUT, cmd_run
from gpfem.base.errors import GpfemError, OutputError, ParameterError
from gpfem.io.collective import AGREED

__all__ = ["ABORT_GRACE_S", "main"]

#: Seconds a rank that aborts the job alone waits after its error line, so the launcher forwards it.
ABORT_GRACE_S = 1.0



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
        # MPI_Abort tears the job down at once, and the launcher drops what it has not yet forwarded of
        # this rank's stderr (measured: the line above lost in 3 of 12 runs of mpiexec -n 2): give it time
        time.sleep(ABORT_GRACE_S)
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
