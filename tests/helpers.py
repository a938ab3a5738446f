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


def sent_ci_steps(solver: str, steps: int, check=None) -> dict:
    """The first ``steps`` fixed increments of ``sent-ci`` with ``solver``, in this process.

    Returns ``rows`` (per accepted step the reaction force and the step's data: alternate minimisations,
    Newton iterations), ``drops`` (the smallest change of alpha in the step: >= 0 by irreversibility),
    ``tops`` (the largest alpha), ``checks`` (``check(model)`` after every step, if given) and the final
    ``alpha``.
    """
    import numpy as np

    from gpfem.models.fracture_spec import PRESETS

    m = fracture_model(solver=solver)
    try:
        rows, drops, tops, checks = [], [], [], []
        ds = PRESETS["sent-ci"]["dload"]
        for k in range(steps):
            prev = m.alpha.x.array.copy()
            res = m.try_step(k * ds, ds)
            assert res.ok, res.reason
            m.accept((k + 1) * ds, ds, res)
            a = m.alpha.x.array
            drops.append(float(np.min(a - prev)))
            tops.append(float(np.max(a)))
            rows.append({"force": m.values["reaction_force"], **res.data})
            if check is not None:
                checks.append(check(m))
        return {"rows": rows, "drops": drops, "tops": tops, "checks": checks, "alpha": m.alpha.x.array.copy()}
    finally:
        m.close()


def fracture_model(preset: str = "sent-ci", comm=None, **overrides):
    """A ``Fracture`` on a preset's built-in mesh, in this process (no run folder, no fields, no tracking)."""
    from mpi4py import MPI

    from gpfem.app.parameters import resolve
    from gpfem.models.fracture import Fracture
    from gpfem.models.fracture_run import preset_mesh
    from gpfem.models.fracture_spec import PARAMETERS, PRESETS

    p = resolve(PARAMETERS, PRESETS[preset], {"output_format": "none", "crack_track": False, **overrides})
    return Fracture(preset_mesh(p, comm if comm is not None else MPI.COMM_WORLD), p)


def bounded_poisson(prefix: str, **solver_kw):
    """A small variational inequality: min int 1/2|grad u|^2 - 10 u over 0 <= u <= 0.05, u = 0 on the boundary
    of the unit square (16 x 16); quadratic, so its Jacobian is the same at every iterate, and the upper
    bound is active in the interior (unconstrained the maximum would be about 0.737). Returns the
    ``NonlinearSolver`` (``prefix``, further keywords passed on) and ``u``."""
    from mpi4py import MPI

    import ufl
    from dolfinx import fem, mesh

    from gpfem.fe.energy import Energy, gradient_penalty
    from gpfem.fe.solver import NonlinearSolver

    msh = mesh.create_unit_square(MPI.COMM_WORLD, 16, 16)
    V = fem.functionspace(msh, ("Lagrange", 1))
    u = fem.Function(V)
    E = Energy(ufl.dx, gradient=gradient_penalty(u, 1.0))
    E.add("work", 10.0 * u * ufl.dx, sign=-1.0)
    msh.topology.create_connectivity(1, 2)
    bc = fem.dirichletbc(0.0, fem.locate_dofs_topological(V, 1, mesh.exterior_facet_indices(msh.topology)), V)
    lo, hi = fem.Function(V), fem.Function(V)
    hi.x.array[:] = 0.05
    return NonlinearSolver(E.residual(u), u, prefix=prefix, bcs=[bc], bounds=(lo, hi), **solver_kw), u
