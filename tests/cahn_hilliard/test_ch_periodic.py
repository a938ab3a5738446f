"""Cahn-Hilliard with periodic boundaries: growth rates of modes that fit the box, periodicity to
round-off, mass, serial = 2 ranks and restart through the CLI."""

import math

from mpi4py import MPI

import numpy as np
import pytest
from ch_linear_stability import amplitude, omega
from dolfinx import fem
from helpers import read_csv, read_json, run_cli

from gpfem.app.parameters import resolve
from gpfem.drivers.stepping import AdaptiveStepper, StepControl
from gpfem.mesh import rectangle
from gpfem.models.cahn_hilliard import CahnHilliard
from gpfem.models.cahn_hilliard_spec import PARAMETERS, PRESETS


def grid_values(model, nx, ny, h):
    """Rank 0: c at every vertex as an (nx + 1) x (ny + 1) array, indexed by grid position."""
    V = model.V
    n = V.dofmap.index_map.size_local
    X = V.tabulate_dof_coordinates()[:n, :2]
    model.update_outputs()
    parts = model.comm.gather((np.rint(X / h).astype(int), model.c_out.x.array[:n].copy()), root=0)
    if model.comm.rank != 0:
        return None
    out = np.full((nx + 1, ny + 1), np.nan)
    for ij, v in parts:
        out[ij[:, 0], ij[:, 1]] = v
    return out


def test_growth_rates_of_modes_that_fit_the_periodic_box():
    """c0 + 1e-5 (cos k1 x + cos k3 x), k_m = 2 pi m / L on a box periodic in x and y.

    k1 = 0.314 < k_max = 0.447 grows, k3 = 0.942 > k_c = 0.632 decays; both rates within 2% of
    omega(k) = -M k^2 (f''(c0) + kappa k^2).
    """
    p = resolve(PARAMETERS, {"periodic": "x,y", "c0": 0.5, "energy_check": False})
    L, nx = 20.0, 160
    h = L / nx
    model = CahnHilliard(rectangle(L, 2 * h, nx, 2, comm=MPI.COMM_WORLD), p)
    try:
        ks = [2 * math.pi * m / L for m in (1, 3)]
        c_init = fem.Function(model.V)
        c_init.interpolate(lambda x: 0.5 + 1e-5 * (np.cos(ks[0] * x[0]) + np.cos(ks[1] * x[0])))
        model.set_initial(c_init)
        a0 = [amplitude(model, k, 0.5) for k in ks]
        assert a0 == pytest.approx([1e-5, 1e-5], rel=5e-3)  # P1 interpolant of the modes
        stepper = AdaptiveStepper(model, StepControl(dt=0.01, dt_min=0.01, dt_max=0.01, grow=1.0))
        t = 0.0
        while t < 1.0 - 1e-12:
            t, _, _ = stepper.step(t, 1.0)
        rates = [math.log(amplitude(model, k, 0.5) / a) / t for k, a in zip(ks, a0, strict=True)]
    finally:
        model.close()
    expected = [omega(p, k) for k in ks]
    assert rates[0] > 0 > rates[1]
    assert rates == pytest.approx(expected, rel=0.02)


@pytest.mark.parametrize("comm_kind", ["serial", pytest.param("mpi", marks=pytest.mark.mpi)])
def test_solution_is_periodic_and_mass_conserved(comm_kind, request):
    """The ``ci`` run on a doubly periodic square: matching boundary values equal to 1e-12."""
    p = resolve(PARAMETERS, PRESETS["ci"], {"periodic": "x,y"})
    nx, ny, L = p["nx"], p["ny"], p["Lx"]
    model = CahnHilliard(rectangle(L, p["Ly"], nx, ny, comm=MPI.COMM_WORLD), p)
    request.addfinalizer(model.close)
    m0, energies = model.values["mass"], [model.values["free_energy"]]
    stepper = AdaptiveStepper(model, StepControl(dt=0.05, dt_min=1e-6, dt_max=2.0, grow=1.5))
    t = 0.0
    while t < 20.0:
        t, _, _ = stepper.step(t, 20.0)
        energies.append(model.values["free_energy"])
        assert abs(model.values["mass"] - m0) / m0 < 1e-10
    assert np.all(np.diff(energies) <= 1e-9 * energies[0])
    assert energies[-1] < 0.8 * energies[0]
    c = grid_values(model, nx, ny, L / nx)
    if model.comm.rank == 0:
        assert not np.isnan(c).any()
        assert np.max(np.abs(c[0, :] - c[-1, :])) < 1e-12
        assert np.max(np.abs(c[:, 0] - c[:, -1])) < 1e-12
        assert np.ptp(c[0, 1:-1]) > 0.05  # a real pattern crosses the seams


def test_pfhub_1a_preset_is_the_periodic_square():
    p = resolve(PARAMETERS, PRESETS["pfhub-1a"])
    q = resolve(PARAMETERS, PRESETS["pfhub-1b"])
    assert p["periodic"] == "x,y" and q["periodic"] == "none"
    assert {k: v for k, v in p.items() if k != "periodic"} == {k: v for k, v in q.items() if k != "periodic"}


@pytest.fixture(scope="module")
def periodic_serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("chper") / "serial"
    run_cli(["run", "cahn-hilliard", "--preset", "ci", "--out", str(out), "--quiet",
             "--set", "periodic=x,y", "--set", "png=false", "--set", "checkpoint_interval=5"])
    return out


def test_periodic_cli_two_ranks_equal_serial(periodic_serial, tmp_path):
    out = tmp_path / "np2"
    run_cli(["run", "cahn-hilliard", "--preset", "ci", "--out", str(out), "--quiet",
             "--set", "periodic=x,y", "--set", "png=false", "--set", "output_format=none"], np=2)
    a, b = read_csv(periodic_serial / "history.csv"), read_csv(out / "history.csv")
    assert len(a) == len(b) > 10
    for ra, rb in zip(a, b, strict=True):
        for k in ra:
            assert rb[k] == pytest.approx(ra[k], rel=1e-8, abs=1e-12), k
    assert read_json(out / "summary.json")["mpi_size"] == 2


def test_periodic_restart_continues_the_same_history(periodic_serial, tmp_path):
    out = tmp_path / "stopped"
    run_cli(["run", "cahn-hilliard", "--preset", "ci", "--out", str(out), "--quiet",
             "--set", "periodic=x,y", "--set", "png=false", "--set", "output_format=none",
             "--set", "max_steps=7"])
    run_cli(["run", "cahn-hilliard", "--restart", str(out), "--quiet", "--set", "max_steps=0"])
    full, cont = read_csv(periodic_serial / "history.csv"), read_csv(out / "history.csv")
    assert len(cont) == len(full)
    for ra, rb in zip(full, cont, strict=True):
        assert rb["free_energy"] == pytest.approx(ra["free_energy"], rel=1e-9)
        assert rb["mass"] == pytest.approx(ra["mass"], rel=1e-12)


def test_bad_periodic_axis_is_one_line_exit_2(tmp_path):
    proc = run_cli(["run", "cahn-hilliard", "--preset", "ci", "--out", str(tmp_path / "bad"),
                    "--set", "periodic=x,z"], check=False)
    assert proc.returncode == 2
    assert "parameter 'periodic'" in proc.stderr and "does not exist on a 2D mesh" in proc.stderr


def test_blocked_space_is_aij_where_periodic_and_baij_is_refused():
    """The blocked (c, mu) space: BAIJ Jacobian without periodicity, AIJ with it (PETSc's PtAP has no BAIJ
    product); -gpfem_ch_A_mat_type baij with periodic axes is one clear error before any assembly."""
    from petsc4py import PETSc

    from gpfem.base.errors import GpfemError

    mesh = rectangle(4.0, 4.0, 4, 4, comm=MPI.COMM_WORLD)
    for axes, kind in (("", "baij"), ("x,y", "aij")):
        model = CahnHilliard(mesh, resolve(PARAMETERS, {"periodic": axes}))
        A = getattr(model.solver.problem, "_A_full", model.solver.problem.A)
        assert model.W.dofmap.index_map_bs == 2 and A.getType().endswith(kind)
        model.close()
    opts = PETSc.Options()
    opts["gpfem_ch_A_mat_type"] = "baij"
    try:
        with pytest.raises(GpfemError, match="option -gpfem_ch_A_mat_type baij: periodic boundaries need"):
            CahnHilliard(mesh, resolve(PARAMETERS, {"periodic": "x"}))
    finally:
        del opts["gpfem_ch_A_mat_type"]
