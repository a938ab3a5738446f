"""The fracture model with the user's own Functions and DirichletBCs gives the group-name model's numbers."""

from __future__ import annotations

import numpy as np
import pytest

from gpfem.app.parameters import resolve
from gpfem.models.fracture_spec import PARAMETERS, PRESETS


def _both_ways():
    """The AT1 bar (fixed 'left', pulled 'right' along x) by group names and by the user's own BCs."""
    from mpi4py import MPI

    import basix.ufl
    from dolfinx import fem

    from gpfem.mesh import rectangle
    from gpfem.models.fracture import Fracture

    p = resolve(PARAMETERS, PRESETS["bar"], {"nx": 40, "ny": 2, "load_path": [2.9], "damage_bc": False})
    bundle = rectangle(p["L"], p["H"], p["nx"], p["ny"], comm=MPI.COMM_WORLD)
    by_name = Fracture(bundle, p)
    by_name_values = []
    try:
        for k in range(12):
            res = by_name.try_step(0.25 * k, 0.25)
            assert res.ok
            by_name.accept(0.25 * (k + 1), 0.25, res)
            by_name_values.append(by_name.values)
    finally:
        by_name.close()

    msh = bundle.mesh
    V = fem.functionspace(msh, basix.ufl.element("Lagrange", msh.basix_cell(), 1, shape=(2,)))
    A = fem.functionspace(msh, basix.ufl.element("Lagrange", msh.basix_cell(), 1))
    u, alpha = fem.Function(V, name="u"), fem.Function(A, name="alpha")
    load = fem.Constant(msh, 0.0)
    fdim = msh.topology.dim - 1
    left = fem.locate_dofs_topological(V, fdim, bundle.facets("left"))
    right_x = fem.locate_dofs_topological(V.sub(0), fdim, bundle.facets("right"))
    right_y = fem.locate_dofs_topological(V.sub(1), fdim, bundle.facets("right"))
    bcs = [fem.dirichletbc(np.zeros(2), left, V), fem.dirichletbc(load, right_x, V.sub(0)),
           fem.dirichletbc(fem.Constant(msh, 0.0), right_y, V.sub(1))]
    own = Fracture(bundle, p, u=u, alpha=alpha, bcs_u=bcs, load=load, reaction_dofs=right_x)
    own_values = []
    try:
        assert own.u is u and own.alpha is alpha
        for k in range(12):
            res = own.try_step(0.25 * k, 0.25)
            assert res.ok
            own.accept(0.25 * (k + 1), 0.25, res)
            own_values.append(own.values)
    finally:
        own.close()
    return p, by_name_values, own_values


def _check(p, by_name, own):
    from gpfem.models.fracture_energy import critical_stress

    for a, b in zip(by_name, own, strict=True):
        for key in ("load", "reaction_force", "elastic_energy", "dissipated_energy", "max_damage"):
            assert b[key] == pytest.approx(a[key], rel=1e-10, abs=1e-14), key
    # and they are the bar's: AT1 stays elastic and undamaged below sigma_c = sqrt(3 Gc E / (8 ell)),
    # R = (1 + k_res) E H u / L exactly, and damages beyond it
    sigma_c = critical_stress("AT1", p["E"], p["Gc"], p["ell"])
    elastic = [v for v in own if v["load"] * p["E"] / p["L"] < sigma_c]
    assert len(elastic) == 10
    for v in elastic:
        exact = (1 + p["k_res"]) * p["E"] * p["H"] * v["load"] / p["L"]
        assert v["reaction_force"] == pytest.approx(exact, rel=1e-9) and v["max_damage"] == 0.0
    assert own[-1]["max_damage"] > 0.05  # (0.108 at u = 2.9)


def test_user_bcs_match_group_names():
    _check(*_both_ways())


@pytest.mark.mpi
def test_user_bcs_match_group_names_in_parallel():
    _check(*_both_ways())
