"""Run under ``mpiexec -n 2 pytest -m mpi``: the core and Cahn-Hilliard on a distributed mesh."""

from mpi4py import MPI

import numpy as np
import pytest

from gpfem.app.parameters import resolve
from gpfem.drivers.stepping import AdaptiveStepper, StepControl
from gpfem.io.checkpoint import load_checkpoint, save_checkpoint
from gpfem.mesh import rectangle
from gpfem.models.cahn_hilliard import CahnHilliard
from gpfem.models.cahn_hilliard_spec import PARAMETERS, PRESETS

pytestmark = pytest.mark.mpi


def test_runs_distributed():
    assert MPI.COMM_WORLD.size >= 2


def test_boundary_groups_span_ranks():
    b = rectangle(1.0, 2.0, 8, 16)
    n_local = b.facets("left").size
    owned = b.mesh.topology.index_map(1).size_local
    local_owned = int(np.sum(b.facets("left") < owned))
    assert b.comm.allreduce(local_owned) == 16
    assert b.comm.allreduce(n_local) >= 16


def test_cahn_hilliard_mass_and_energy_in_parallel():
    p = resolve(PARAMETERS, PRESETS["ci"])
    model = CahnHilliard(rectangle(p["Lx"], p["Ly"], p["nx"], p["ny"]), p)
    stepper = AdaptiveStepper(model, StepControl(dt=0.05, dt_min=1e-6, dt_max=2.0))
    m0, e = model.values["mass"], [model.values["free_energy"]]
    t = 0.0
    while t < 20.0:
        t, _, _ = stepper.step(t, 20.0)
        e.append(model.values["free_energy"])
        assert abs(model.values["mass"] - m0) / m0 < 1e-10
    assert np.all(np.diff(e) <= 1e-9 * e[0])
    # every rank holds the same reduced values
    assert MPI.COMM_WORLD.allreduce(e[-1], op=MPI.MAX) == MPI.COMM_WORLD.allreduce(e[-1], op=MPI.MIN)
    model.close()


def test_checkpoint_round_trip(shared_tmp):
    p = resolve(PARAMETERS, PRESETS["ci"])
    model = CahnHilliard(rectangle(p["Lx"], p["Ly"], p["nx"], p["ny"]), p)
    before = model.u.x.array.copy()
    f = shared_tmp / "ck.npz"
    save_checkpoint(f, model.checkpoint_fields(), {"time": 1.5, "step": 3, "dt": 0.1})
    model.u.x.array[:] = -1.0
    meta = load_checkpoint(f, model.checkpoint_fields())
    assert meta == {"time": 1.5, "step": 3, "dt": 0.1}
    assert np.max(np.abs(model.u.x.array - before)) < 1e-15
    with np.load(f) as z:
        assert z["c"].shape == (625, 1)  # one value per mesh vertex, in input order
    model.close()
