"""Martensite with periodic boundaries: eta (vector) and u periodic to round-off, the rigid translation
pinned, translation invariance of a periodic box, serial = 2 ranks, bad input."""

from __future__ import annotations

from mpi4py import MPI

import numpy as np
import pytest
from helpers import read_csv, run_cli

from gpfem.app.parameters import resolve
from gpfem.drivers.stepping import AdaptiveStepper, StepControl
from gpfem.fe.periodic import scalar_leaves
from gpfem.mesh import rectangle
from gpfem.models.martensite import Martensite
from gpfem.models.martensite_spec import PARAMETERS, PRESETS

N, L = 16, 8.0  # 16 x 16 quadrilaterals on an 8 x 8 square


def _model(periodic: str, **kw) -> Martensite:
    p = resolve(PARAMETERS, PRESETS["ci"], {"Lx": L, "Ly": L, "nx": N, "ny": N, "periodic": periodic,
                                            "energy_check": False, **kw})
    b = rectangle(L, L, N, N, quadrilateral=True, comm=MPI.COMM_WORLD)
    return Martensite(b, p, grid=(N, N, L, L))


def _steps(model: Martensite, n: int, dt: float = 0.05) -> list[float]:
    stepper = AdaptiveStepper(model, StepControl(dt=dt, dt_min=dt, dt_max=dt, grow=1.0))
    t, out = 0.0, [model.values["total_energy"]]
    for _ in range(n):
        t, _, _ = stepper.step(t, 1e9)
        out.append(model.values["total_energy"])
    return out


def _grid(model: Martensite) -> list[np.ndarray] | None:
    """Rank 0: every scalar component of w on the (N + 1) x (N + 1) vertex grid."""
    h = L / N
    n_own = model.W.dofmap.index_map.size_local * model.W.dofmap.index_map_bs
    local = []
    for X, idx in scalar_leaves(model.W):
        own = idx < n_own
        local.append((np.rint(X[own, :2] / h).astype(int), model.w.x.array[idx[own]]))
    parts = model.comm.gather(local, root=0)
    if model.comm.rank != 0:
        return None
    out = []
    for k in range(len(local)):
        g = np.full((N + 1, N + 1), np.nan)
        for part in parts:
            ij, v = part[k]
            g[ij[:, 0], ij[:, 1]] = v
        out.append(g)
    return out


@pytest.mark.parametrize(("periodic", "comm_kind"), [
    ("x,y", "serial"), ("x", "serial"), pytest.param("x,y", "mpi", marks=pytest.mark.mpi)])
def test_fields_are_periodic_and_translation_is_fixed(periodic, comm_kind, request):
    """eta_1, eta_2, u_x, u_y periodic to 1e-12; x,y: u = 0 at the pinned centre; x: u = 0 on bottom/top."""
    model = _model(periodic)
    request.addfinalizer(model.solver.close)
    e = _steps(model, 10)
    assert np.all(np.diff(e) <= 1e-10 * abs(e[0]))  # a minimising step never raises F
    g = _grid(model)
    if model.comm.rank != 0:
        return
    assert len(g) == 4 and not any(np.isnan(c).any() for c in g)
    for c in g:
        assert np.max(np.abs(c[0, :] - c[-1, :])) < 1e-12
        if periodic == "x,y":
            assert np.max(np.abs(c[:, 0] - c[:, -1])) < 1e-12
    ux, uy = g[2], g[3]
    assert np.max(np.abs(ux)) > 1e-4  # the eigenstrain does deform the box
    if periodic == "x,y":
        assert ux[N // 2, N // 2] == 0.0 and uy[N // 2, N // 2] == 0.0
    else:
        assert np.all(ux[:, [0, -1]] == 0.0) and np.all(uy[:, [0, -1]] == 0.0)


def test_periodic_box_is_translation_invariant():
    """Noise shifted by 5 cells along x: the same energy history on a periodic box, not on a clamped one."""

    def run(periodic: str, shift: int) -> list[float]:
        model = _model(periodic)
        try:
            rng = np.random.default_rng(model.p["seed"])
            R = rng.random((2, N + 1, N + 1))[:, :N, :N]  # the periodic part of the seeded noise
            X = model.S.tabulate_dof_coordinates()
            i = np.rint(X[:, 0] / (L / N)).astype(int) % N
            j = np.rint(X[:, 1] / (L / N)).astype(int) % N
            for k in range(2):
                model.w.x.array[model._eta_maps[k]] = 0.1 * np.roll(R[k], shift, axis=0)[i, j]
            model.w.x.scatter_forward()
            model.w_n.x.array[:] = model.w.x.array
            model.prepare(0.0)
            return _steps(model, 6)
        finally:
            model.solver.close()

    a, b = np.array(run("x,y", 0)), np.array(run("x,y", 5))
    assert np.max(np.abs(a - b) / np.abs(a)) < 1e-8
    c, d = np.array(run("none", 0)), np.array(run("none", 5))
    assert np.max(np.abs(c - d) / np.abs(c)) > 1e-3  # the clamped box has a position: the check can fail


def test_periodic_cli_two_ranks_equal_serial(tmp_path):
    args = ["run", "martensite", "--preset", "ci", "--quiet", "--set", "periodic=x,y",
            "--set", "nx=16", "--set", "ny=16", "--set", "Lx=8", "--set", "Ly=8", "--set", "t_end=2",
            "--set", "output_format=none"]
    run_cli([*args, "--out", str(tmp_path / "a")])
    run_cli([*args, "--out", str(tmp_path / "b")], np=2)
    a, b = read_csv(tmp_path / "a" / "history.csv"), read_csv(tmp_path / "b" / "history.csv")
    assert len(a) == len(b) > 5
    for ra, rb in zip(a, b, strict=True):
        for k in ra:
            assert rb[k] == pytest.approx(ra[k], rel=1e-8, abs=1e-12), k


def test_clamping_a_periodic_side_is_refused(tmp_path):
    proc = run_cli(["run", "martensite", "--preset", "ci", "--out", str(tmp_path / "bad"),
                    "--set", "periodic=x", "--set", "clamped=left,bottom"], check=False)
    assert proc.returncode == 2
    assert "parameter 'clamped'" in proc.stderr and "periodic axis" in proc.stderr
