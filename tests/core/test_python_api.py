"""The models from Python: parameter dataclasses, plain DOLFINx meshes, the loop with and without files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import gpfem
from gpfem.base.errors import ParameterError
from gpfem.models.cahn_hilliard_spec import SPEC as CH_SPEC
from gpfem.models.fracture_spec import SPEC as FRACTURE_SPEC
from gpfem.models.martensite_spec import SPEC as MARTENSITE_SPEC

CLASSES = [(gpfem.CahnHilliardParameters, CH_SPEC), (gpfem.FractureParameters, FRACTURE_SPEC),
           (gpfem.MartensiteParameters, MARTENSITE_SPEC)]
#: A tiny spinodal run: random noise of 0.05 about c0 = 0.5 on 20 x 20 (10 x 10 cells) to t = 5.
TINY = dict(initial="random", epsilon=0.05, Lx=20.0, Ly=20.0, nx=10, ny=10, t_end=5.0, dt=0.05, dt_max=2.0,
            output_format="none", png=False)


@pytest.mark.parametrize(("cls", "spec"), CLASSES, ids=lambda c: getattr(c, "__name__", ""))
def test_parameter_class_is_the_spec(cls, spec):
    """Fields, types and defaults from the Parameter list; every preset equals the command line's dict."""
    assert [f.name for f in dataclasses.fields(cls)] == [p.name for p in spec.parameters]
    defaults = cls()
    for p in spec.parameters:
        assert cls.__dataclass_fields__[p.name].type is p.kind or p.kind is list
        assert defaults[p.name] == p.default and type(getattr(defaults, p.name)) is p.kind
    for name in spec.presets:
        params = cls.from_preset(name)
        assert dict(params) == spec.resolve(spec.presets[name])
        assert params == spec.resolve(spec.presets[name])  # a Mapping equal to the dict
    with pytest.raises(dataclasses.FrozenInstanceError):
        defaults.seed = 3  # noqa: B018  (frozen)


def test_bad_values_name_the_field():
    """The command line's messages: a value, an unknown name, a cross-check, a replace, a preset."""
    cls = gpfem.CahnHilliardParameters
    with pytest.raises(ParameterError, match="'kappa': must be > 0") as e:
        cls(kappa=-1.0)
    assert e.value.name == "kappa"
    with pytest.raises(ParameterError, match="did you mean 'kappa'") as e:
        cls(kapa=1.0)
    assert e.value.name == "kapa"
    with pytest.raises(ParameterError) as e:  # Spec.check: dt_min <= dt <= dt_max
        cls(dt=20.0)
    assert e.value.name == "dt"
    with pytest.raises(ParameterError) as e:
        cls().replace(nx="many")
    assert e.value.name == "nx"
    with pytest.raises(ParameterError) as e:
        cls.from_preset("ci", periodic="x", amr=True)  # the spec's cross-check
    assert e.value.name == "amr"
    with pytest.raises(ParameterError) as e:
        gpfem.FractureParameters(ell=float("nan"))
    assert e.value.name == "ell"
    with pytest.raises(ParameterError) as e:
        gpfem.MartensiteParameters.from_preset("no-such-preset")
    assert e.value.name == "preset"
    p = cls(nx=4, stop_times=[1, "2.5"])  # coerced as from TOML or --set
    assert p.nx == 4 and p.stop_times == [1.0, 2.5] and p.replace(nx=5).nx == 5 and p.nx == 4


def _ch(params, mesh):
    from gpfem.models.cahn_hilliard import CahnHilliard

    return CahnHilliard(mesh, params)


def test_dict_and_dataclass_give_the_same_model():
    """CH from a dict on a MeshBundle and from the dataclass on its bare DOLFINx mesh: one state."""
    from mpi4py import MPI

    from gpfem.mesh import rectangle

    bundle = rectangle(20.0, 20.0, 10, 10, comm=MPI.COMM_WORLD)
    as_dict = CH_SPEC.resolve(TINY)
    state = []
    for params, mesh in ((as_dict, bundle), (gpfem.CahnHilliardParameters(**TINY), bundle.mesh)):
        model = _ch(params, mesh)  # one at a time: one live solver per options prefix
        try:
            assert isinstance(model.p, gpfem.CahnHilliardParameters) and model.p == as_dict
            state.append((model.u.x.array.copy(), model.values, model.bundle))
        finally:
            model.close()
    (ua, va, ba), (ub, vb, bb) = state
    assert ba is bundle and bb.mesh is bundle.mesh and bb.groups == {}
    np.testing.assert_array_equal(ua, ub)
    assert va == vb
    with pytest.raises(ParameterError, match="'mobility'"):  # a dict is checked like the dataclass
        _ch({**as_dict, "mobility": 0.0}, bundle)


def test_fracture_on_a_plain_mesh_needs_the_callers_bcs():
    """Without named groups the group BCs fail with one line naming the group."""
    from mpi4py import MPI

    from dolfinx import mesh as dmesh

    from gpfem.base.errors import MeshError
    from gpfem.models.fracture import Fracture

    msh = dmesh.create_rectangle(MPI.COMM_WORLD, [[0.0, 0.0], [1.0, 0.1]], [8, 1])
    params = gpfem.FractureParameters.from_preset("bar", crack_track=False)
    with pytest.raises(MeshError, match=f"no boundary physical group '{params.fixed}'"):
        Fracture(msh, params)


def _tiny_run(output):
    from mpi4py import MPI

    from dolfinx import mesh as dmesh

    params = gpfem.CahnHilliardParameters(**TINY)
    msh = dmesh.create_rectangle(MPI.COMM_WORLD, [[0.0, 0.0], [params.Lx, params.Ly]], [params.nx, params.ny])
    model = gpfem.CahnHilliard(msh, params)
    try:
        return gpfem.run_time_loop(model, gpfem.step_control(params), gpfem.loop_settings(params), output)
    finally:
        model.close()


def test_run_in_memory_returns_history_arrays(tmp_path, monkeypatch):
    """output=None: nothing written; one row per step; energy never rises, mass kept (CH conserves it)."""
    monkeypatch.chdir(tmp_path)
    res = _tiny_run(None)
    h = res["history"]
    assert list(tmp_path.iterdir()) == []
    assert set(h) >= {"step", "time", "dt", "free_energy", "mass"} and res["field_file"] is None
    assert all(isinstance(v, np.ndarray) and v.shape == (res["steps"] + 1,) for v in h.values())
    np.testing.assert_array_equal(h["step"], np.arange(res["steps"] + 1))
    assert h["time"][-1] == pytest.approx(5.0) and res["time"] == pytest.approx(5.0)
    assert res["steps"] >= 5
    assert np.all(np.diff(h["free_energy"]) <= 1e-12 * abs(h["free_energy"][0]))
    assert h["free_energy"][-1] < 0.95 * h["free_energy"][0]  # noise decays: the energy falls
    assert np.max(np.abs(h["mass"] / h["mass"][0] - 1.0)) < 1e-10


def test_run_output_writes_the_same_history(tmp_path):
    """RunOutput makes its folder (no mkdir by the caller) and writes the in-memory run's history."""
    from mpi4py import MPI

    out = Path(MPI.COMM_WORLD.bcast(str(tmp_path), root=0)) / "a" / "b"  # one folder for all ranks
    res = _tiny_run(gpfem.RunOutput(out))
    mem = _tiny_run(None)["history"]
    assert "history" not in res and (out / "checkpoint.npz").exists()
    rows = gpfem.read_history(out / "history.csv")
    assert len(rows) == len(mem["step"])
    for col in ("time", "free_energy", "mass"):
        # rtol: a sum over ranks may round differently from one run to the next
        np.testing.assert_allclose([float(r[col]) for r in rows], mem[col], rtol=1e-13, atol=0)


@pytest.mark.mpi
def test_run_in_memory_on_two_ranks():
    """Every rank gets the same history arrays; mass kept, energy never rises."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    h = _tiny_run(None)["history"]
    ref = comm.bcast(h, root=0)
    for k in ("step", "free_energy", "mass"):
        np.testing.assert_array_equal(h[k], ref[k])
    assert np.all(np.diff(h["free_energy"]) <= 1e-12 * abs(h["free_energy"][0]))
    assert np.max(np.abs(h["mass"] / h["mass"][0] - 1.0)) < 1e-10
