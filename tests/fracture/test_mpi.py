"""Run under ``mpiexec -n 2 pytest -m mpi``: the model in-process on every rank of COMM_WORLD."""

from __future__ import annotations

import numpy as np
import pytest

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
