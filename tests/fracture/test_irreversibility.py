"""Irreversibility by bounds, and no damage under pure compression with the voldev and spectral splits."""

from __future__ import annotations

import numpy as np
import pytest

from gpfem.app.parameters import resolve
from gpfem.models.fracture_spec import PARAMETERS, PRESETS


def _model(**overrides):
    from mpi4py import MPI

    from gpfem.mesh import rectangle
    from gpfem.models.fracture import Fracture

    p = resolve(PARAMETERS, PRESETS["bar"], overrides)
    bundle = rectangle(p["L"], p["H"], p["nx"], p["ny"], comm=MPI.COMM_WORLD)
    return Fracture(bundle, p)


def _step(model, s, ds):
    res = model.try_step(s, ds)
    assert res.ok, res.reason
    model.accept(s + ds, ds, res)
    return res


def test_damage_never_decreases_on_unloading():
    """Load past the peak, unload to zero, reload: alpha >= its previous value at every node, every step."""
    m = _model(model="AT2", damage_bc=True, nx=60, load_path=[3.0, 0.0, 2.0], relaxation=1.6,
               altmin_tol=1e-6)
    try:
        s, ds = 0.0, 0.25
        previous = m.alpha.x.array.copy()
        drops, maxima = [], []
        while s < m.path.s_end - 1e-12:
            _step(m, s, ds)
            s += ds
            a = m.alpha.x.array.copy()
            drops.append(float(np.min(a - previous)))
            maxima.append(float(a.max()))
            previous = a
        # damage appeared (the test could fail) and never went down, also while unloading
        assert maxima[-1] > 0.5
        assert min(drops) >= -1e-12
        # unloading (loads 3 -> 0) left the damage field unchanged: the bound is active
        assert maxima[11] == pytest.approx(maxima[23], abs=1e-12)
    finally:
        m.close()


@pytest.mark.parametrize("split", ["voldev", "spectral"])
def test_no_damage_under_pure_compression(split):
    """u = load x on the whole boundary with load < 0 (pure volumetric compression, plane stress)."""
    m = _model(model="AT2", split=split, loading="isotropic", hypothesis="plane_stress", nu=0.3,
               nx=20, ny=2, load_max=-2.0)
    try:
        for k in range(4):
            _step(m, 0.5 * k, 0.5)
        assert m.values["elastic_energy"] > 0.1  # strongly compressed ...
        assert m.max_damage() == 0.0  # ... and not damaged at all
    finally:
        m.close()


def test_compression_damages_without_split():
    """The control: without a split the same compression does damage the material."""
    m = _model(model="AT2", split="none", loading="isotropic", hypothesis="plane_stress", nu=0.3,
               nx=20, ny=2, load_max=-2.0)
    try:
        for k in range(4):
            _step(m, 0.5 * k, 0.5)
        assert m.max_damage() > 0.1
    finally:
        m.close()


def test_spectral_split_matches_plain_energy_in_tension():
    """Under pure volumetric tension every principal strain is positive: psi+ = psi, psi- = 0."""
    import ufl
    from dolfinx import fem

    from gpfem.models.fracture_energy import strain_energy_split

    m = _model(model="AT2", split="none", nx=4, ny=2)
    try:
        m.u.interpolate(lambda x: np.vstack([0.3 * x[0] + 0.1 * x[1], 0.2 * x[1]]))
        eps = ufl.sym(ufl.grad(m.u))
        dx = ufl.dx(domain=m.bundle.mesh)
        vals = {}
        for split in ("none", "voldev", "spectral"):
            plus, minus = strain_energy_split(eps, 1.0, 1.0, split, False)
            vals[split] = [fem.assemble_scalar(fem.form(f * dx)) for f in (plus, minus)]
        assert vals["spectral"][0] == pytest.approx(vals["none"][0], rel=1e-10)
        assert vals["spectral"][1] == pytest.approx(0.0, abs=1e-14)
        assert sum(vals["voldev"]) == pytest.approx(vals["none"][0], rel=1e-10)
    finally:
        m.close()
