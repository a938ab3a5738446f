"""The one run path (gpfem/app/runner.py): what a model given as ``RunHooks`` gets from ``run_model``.

The model is the Dirichlet-energy gradient flow of one cosine mode, F = int (kappa/2)|grad phi|^2: backward
Euler keeps the mode, so each accepted step multiplies F by (1 + L kappa k^2 dt)^-2 (up to O((k h)^2)).
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from helpers import read_csv

import gpfem
from gpfem.app.registry import RunContext, Spec

PARAMETERS = [
    gpfem.Parameter("kappa", 1.0, "gradient-penalty coefficient", positive=True),
    gpfem.Parameter("Lx", 10.0, "strip length", positive=True),
    gpfem.Parameter("nx", 40, "elements along x", positive=True),
    *gpfem.TIME_PARAMETERS,
    *gpfem.OUTPUT_PARAMETERS,
    *gpfem.AMR_PARAMETERS,
]
K2 = (math.pi / 10.0) ** 2


class Flow(gpfem.GradientFlow):
    """The gradient flow, counting its ``close`` calls."""

    closed = 0

    def close(self) -> None:
        Flow.closed += 1
        super().close()


def _build(run):
    import ufl
    from dolfinx import fem

    p, msh = run.params, run.base.mesh
    V = fem.functionspace(msh, ("Lagrange", 1))
    phi, phi_n = fem.Function(V, name="phi"), fem.Function(V)
    (kappa,) = gpfem.constants(msh, p, "kappa")
    dt = fem.Constant(msh, 1.0)
    energy = gpfem.Energy(ufl.dx(domain=msh), gradient=gpfem.gradient_penalty(phi, kappa))
    v = ufl.TestFunction(V)
    F = (phi - phi_n) / dt * v * ufl.dx + energy.residual(phi, v)
    phi.interpolate(lambda x: np.cos(math.pi / p.Lx * x[0]))
    return Flow(gpfem.NonlinearSolver(F, phi, prefix="runner_test_"), phi, phi_n, dt, energy)


def _spec(**hooks) -> Spec:
    seen = hooks.pop("seen", [])

    def build(run):
        seen.append(run.params)
        return _build(run)

    return Spec(name="runner-test", description="one cosine mode relaxing", parameters=PARAMETERS,
                presets={"ci": dict(t_end=2.0, dt=0.05, dt_max=0.2, field_interval=0, png=False)},
                hooks=gpfem.RunHooks(name="runner-test", build=build, **hooks))


def _mesh(p, ctx):
    return ctx.mesh(lambda: gpfem.rectangle(p.Lx, p.Lx / p.nx, p.nx, 1, comm=ctx.comm))


def _params(spec, **sets):
    return spec.resolve(spec.preset("ci")[1], sets)


def _run_hooked(out: Path, comm) -> None:
    seen: list = []
    spec = _spec(mesh=_mesh, seen=seen)
    ctx = RunContext(out_dir=out, comm=comm)
    res = spec.runner()(_params(spec, max_steps=6, kappa=1.5), ctx)
    assert len(seen) == 1 and type(seen[0]) is spec.parameter_set()  # the dict, converted once
    assert seen[0].kappa == 1.5 and isinstance(seen[0], gpfem.ParameterSet)
    assert ctx.stopped == "max_steps" and res["steps"] == 6 and res["rejected_steps"] == 0
    rows = read_csv(out / "history.csv")  # (every rank reads the flushed file)
    assert [r["step"] for r in rows] == list(range(7)) and res["final_time"] == rows[-1]["time"] < 2.0
    factor = np.prod([(1 + 1.5 * K2 * r["dt"]) ** -2 for r in rows[1:]])
    assert rows[-1]["energy"] / rows[0]["energy"] == pytest.approx(factor, rel=1e-3)
    assert rows[0]["energy"] == pytest.approx(1.5 / 2 * K2 * 10.0 * 0.25 / 2, rel=1e-3)  # int sin^2 = L/2


def test_hooks_get_typed_parameters_the_loop_and_the_stop(tmp_path, comm):
    _run_hooked(tmp_path, comm)


@pytest.mark.mpi
def test_hooks_run_on_two_ranks(shared_tmp, comm):
    _run_hooked(shared_tmp, comm)


def test_the_model_is_closed_when_the_summary_fails(tmp_path, comm):
    def summary(run):
        raise RuntimeError("broken summary")

    spec, before = _spec(mesh=_mesh, summary=summary), Flow.closed
    with pytest.raises(RuntimeError, match="broken summary"):
        spec.runner()(_params(spec, max_steps=1), RunContext(out_dir=tmp_path, comm=comm))
    assert Flow.closed == before + 1


class _Adaptive:
    """Stands for an AdaptiveModel: the flow on an unchanged mesh, with an adaptive run's summary."""

    def __init__(self, model, bundle):
        self.model, self.amesh = model, SimpleNamespace(bundle=bundle)

    def __getattr__(self, name):
        return getattr(self.model, name)

    def summary(self):
        return {"adapts": 0, "dofs_start": -1}


@pytest.mark.parametrize("amr", [False, True])
def test_adapt_hook_only_with_amr_and_its_summary(tmp_path, comm, amr):
    calls = []

    def adapt(run, checkpoint):
        calls.append(checkpoint)
        return _Adaptive(_build(run), run.base)

    spec = _spec(mesh=_mesh, adapt=adapt, describe=lambda run: f"adaptive={run.adaptive}")
    res = spec.runner()(_params(spec, max_steps=2, amr=amr), RunContext(out_dir=tmp_path, comm=comm))
    assert calls == ([None] if amr else [])  # a new run: no checkpoint to restore
    assert ("adapts" in res) is amr and res.get("dofs_start", 0) == (-1 if amr else 0)
    assert res["steps"] == 2


def test_a_spec_takes_run_or_hooks():
    hooks = gpfem.RunHooks(name="x", build=_build)
    with pytest.raises(TypeError, match="run= or hooks="):
        Spec(name="x", description="", parameters=PARAMETERS, presets={"a": {}})
    with pytest.raises(TypeError, match="run= or hooks="):
        Spec(name="x", description="", parameters=PARAMETERS, presets={"a": {}}, run=print, hooks=hooks)


def test_the_older_run_form_still_gets_the_dict(tmp_path):
    spec = Spec(name="old", description="", parameters=PARAMETERS, presets={"a": {}},
                run=lambda p, ctx: {"type": type(p).__name__, "kappa": p["kappa"]})
    assert spec.runner()(spec.resolve({"kappa": 2.0}), RunContext(out_dir=tmp_path)) == {"type": "dict",
                                                                                           "kappa": 2.0}
