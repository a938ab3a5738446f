"""Shared test helpers (importable as ``from helpers import run_cli, read_csv, read_json``, ...).

Serial tests run with ``pytest -m "not mpi"``; tests marked ``mpi`` run under ``mpiexec -n 2 pytest -m mpi``
(every rank runs them). ``run_cli`` runs the real ``gpfem`` command, optionally under ``mpiexec -n N``, so a
serial test can compare a serial run with a parallel one.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MPIEXEC = BIN / "mpiexec"


def run_cli(args: list[str], np: int = 1, timeout: float = 600, check: bool = True,
            cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``gpfem ARGS`` (under ``mpiexec -n np`` when np > 1); return the completed process.

    ``env`` adds to (or replaces entries of) the environment, e.g. ``{"PYTHONPATH": ...}``.
    """
    cmd = [str(BIN / "gpfem"), *args]
    if np > 1:
        cmd = [str(MPIEXEC), "-n", str(np), *cmd]
    env = dict(os.environ, OMP_NUM_THREADS="1", **(env or {}))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=cwd or ROOT)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def run_on_1_and_2_ranks(base: Path, args: list[str]) -> dict[int, Path]:
    """Run ``gpfem ARGS --out base/np<n>`` on 1 rank and under ``mpiexec -n 2``; the folder per rank count."""
    runs = {}
    for n in (1, 2):
        runs[n] = base / f"np{n}"
        run_cli([*args, "--out", str(runs[n])], np=n)
    return runs


def read_csv(path: Path) -> list[dict[str, float]]:
    """A history CSV as a list of rows of floats (empty cells become nan)."""
    with Path(path).open() as fh:
        return [{k: float(v) if v not in ("", None) else float("nan") for k, v in r.items()}
                for r in csv.DictReader(fh)]


def read_json(path: Path) -> dict:
    """A JSON file."""
    return json.loads(Path(path).read_text())


def fracture_model(preset: str = "sent-ci", comm=None, **overrides):
    """A ``Fracture`` on a preset's built-in mesh, in this process (no run folder, no fields, no tracking)."""
    from mpi4py import MPI

    from gpfem.app.parameters import resolve
    from gpfem.models.fracture import Fracture
    from gpfem.models.fracture_run import preset_mesh
    from gpfem.models.fracture_spec import PARAMETERS, PRESETS

    p = resolve(PARAMETERS, PRESETS[preset], {"output_format": "none", "crack_track": False, **overrides})
    return Fracture(preset_mesh(p, comm if comm is not None else MPI.COMM_WORLD), p)
