"""The load increment from the damage rise of the accepted step (``damage_increment_target``)."""

from __future__ import annotations

from mpi4py import MPI

import numpy as np
import pytest
from helpers import fracture_model


def _steps(target, load_end=0.0098):
    """shear-ci to ``load_end`` (past the peak), with the stepper's clamping and cutting: each accepted
    step's ds, damage rise and proposed next increment."""
    m = fracture_model("shear-ci", damage_increment_target=target)
    p = m.p
    try:
        out, s, ds = [], 0.0, p["dload"]
        while s < load_end:
            before = m.alpha_prev.x.array.copy()
            res = m.try_step(s, ds)
            if not res.ok:  # rejected: cut, as the stepper does
                m.reject()
                ds = max(0.5 * ds, p["dload_min"])
                continue
            local = float(np.max(m.alpha.x.array - before, initial=0.0))
            rise = MPI.COMM_WORLD.allreduce(local, op=MPI.MAX)
            out.append((ds, rise, res.dt_next))
            m.accept(s + ds, ds, res)
            s += ds
            if res.dt_next is not None:
                ds = min(max(res.dt_next, p["dload_min"]), p["dload_max"])
        return out, p
    finally:
        m.close()


def test_next_increment_follows_the_damage_rise():
    """dt_next = ds * clip(target * max_damage_increment / rise, 1/2, dload_grow) after every accepted step,
    the rise measured independently (max of alpha - alpha_prev before the step is accepted); it shrinks the
    increment once damage grows fast and grows it while damage barely moves."""
    rows, p = _steps(0.8)
    target = 0.8 * p["max_damage_increment"]
    for ds, rise, nxt in rows:
        want = ds * min(max(target / max(rise, 1e-12), 0.5), p["dload_grow"])
        assert nxt == pytest.approx(want, rel=1e-9)
    factors = [nxt / ds for ds, _, nxt in rows]
    assert max(factors) == pytest.approx(p["dload_grow"])  # grown while the damage barely moved
    assert min(factors) < 1.0  # and cut once it rose by more than the target


def test_off_by_default_except_in_the_shear_preset():
    """0 (off): no proposal, the stepper grows the increment after easy steps as before."""
    rows, _ = _steps(0.0, load_end=1e-3)
    assert all(nxt is None for _, _, nxt in rows)
    from gpfem.app.parameters import resolve
    from gpfem.models.fracture_spec import PARAMETERS, PRESETS

    assert resolve(PARAMETERS, PRESETS["sent"], {})["damage_increment_target"] == 0.0
    assert resolve(PARAMETERS, PRESETS["shear"], {})["damage_increment_target"] == 0.8
