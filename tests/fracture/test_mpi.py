"""Run under ``mpiexec -n 2 pytest -m mpi``: the model in-process on every rank of COMM_WORLD."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import fracture_model

from gpfem.app.parameters import resolve
from gpfem.models.fracture_spec import PARAMETERS, PRESETS

pytestmark = pytest.mark.mpi


def test_bar_peak_and_irreversibility_in_parallel():
    """AT2 bar split over the ranks: peak stress within 1%, damage never decreases, same on all ranks."""
    from mpi4py import MPI

    from gpfem.mesh import rectangle
    from gpfem.models.fracture import Fracture
    from gpfem.models.fracture_energy import critical_stress

    comm = MPI.COMM_WORLD
    p = resolve(PARAMETERS, PRESETS["bar"], {"model": "AT2", "nx": 40, "ny": 2, "damage_bc": False,
                                             "load_path": [2.8, 1.0, 3.5]})
    bundle = rectangle(p["L"], p["H"], p["nx"], p["ny"], comm=comm)
    m = Fracture(bundle, p)
    try:
        s, ds, peak, worst_drop = 0.0, 0.05, 0.0, 0.0
        previous = m.alpha.x.array.copy()
        while s < m.path.s_end - 1e-12:
            res = m.try_step(s, ds)
            assert res.ok, res.reason
            m.accept(s + ds, ds, res)
            s += ds
            peak = max(peak, m.values["reaction_force"] / p["H"])
            worst_drop = min(worst_drop, float(np.min(m.alpha.x.array - previous)))
            previous = m.alpha.x.array.copy()
        sigma_c = critical_stress("AT2", p["E"], p["Gc"], p["ell"])
        assert abs(peak - sigma_c) / sigma_c < 0.01
        assert comm.allreduce(worst_drop, op=MPI.MIN) >= -1e-12
        # every rank holds the same reduced numbers
        assert comm.allreduce(peak, op=MPI.MAX) == comm.allreduce(peak, op=MPI.MIN)
    finally:
        m.close()


def _sent_ci_history(comm, solver, steps):
    """Loads, alternate minimisations, forces and the bound check of sent-ci steps on ``comm``."""
    from mpi4py import MPI

    m = fracture_model(comm=comm, solver=solver)
    p = m.p
    try:
        rows, worst, ds = [], 0.0, p["dload"]
        for k in range(steps):
            prev = m.alpha.x.array.copy()
            res = m.try_step(k * ds, ds)
            assert res.ok, res.reason
            m.accept((k + 1) * ds, ds, res)
            worst = min(worst, float(np.min(m.alpha.x.array - prev)), float(1.0 - np.max(m.alpha.x.array)))
            rows.append((m.load_value, res.data["alt_min_iterations"], m.values["reaction_force"]))
        return rows, comm.allreduce(worst, op=MPI.MIN)
    finally:
        m.close()


def test_anderson_one_rank_equals_two_ranks():
    """solver=anderson through the sent-ci crack step (13 steps) on all ranks and on each rank alone: the same
    loads and alternate minimisations (every decision is reduced), forces within 1e-6, bounds exact."""
    from mpi4py import MPI

    world, worst_w = _sent_ci_history(MPI.COMM_WORLD, "anderson", 13)
    alone, worst_s = _sent_ci_history(MPI.COMM_SELF, "anderson", 13)
    assert worst_w >= 0.0 and worst_s >= 0.0
    assert max(r[2] for r in world) > 0.5  # the peak (0.646 kN) ...
    assert world[-1][2] < 0.02 * max(r[2] for r in world)  # ... and the crack ran through
    for (lw, iw, fw), (ls, is_, fs) in zip(world, alone, strict=True):
        assert lw == ls
        assert iw == is_
        assert fw == pytest.approx(fs, rel=1e-6, abs=1e-9)
