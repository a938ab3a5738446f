"""One run path for every model: mesh, model (adaptive when offered and asked), time loop, summary, post.

A :class:`~gpfem.app.registry.Spec` carries :class:`RunHooks`, the model-specific parts of a run;
:func:`run_model` does the rest, the same for the built-in models and for plug-ins:

1. the mesh (``hooks.mesh``; the user's ``--mesh`` file through ``ctx.mesh`` when given);
2. the model: ``hooks.adapt(run, checkpoint)`` when the hooks offer adaptivity and ``params["amr"]`` is
   true (``checkpoint``: the run folder's checkpoint on ``--restart``), else ``hooks.build(run)``;
3. one log line ``NAME: mesh, cells, <describe>, ranks; setup time``;
4. :func:`~gpfem.drivers.timeloop.run_time_loop` with ``hooks.control`` and ``hooks.settings`` (the
   shared time parameters by default) and the history columns, timed (wall and CPU);
5. ``hooks.summary(run)`` while the model is alive, then ``model.close()`` on every rank (also after an
   error), then the summary of an adaptive run (:meth:`~gpfem.amr.AdaptiveModel.summary`) and
   ``hooks.finish(run)`` (post-processing, e.g. :func:`pictures`).

The loop sets ``ctx.stopped`` when ``max_steps`` ends a run early, and the command line then writes the
status ``stopped (max_steps)``; with ``png = true`` a run whose results hold no pictures gets the spec's
``post`` (:mod:`gpfem.app.run_command`). Parameters reach the hooks as the spec's
:class:`~gpfem.app.parameter_set.ParameterSet` (a read-only mapping too: ``p["kappa"]``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpfem.app.run_parameters import loop_settings, step_control
from gpfem.base.log import get_logger
from gpfem.drivers.timeloop import CHECKPOINT, run_time_loop
from gpfem.io.collective import rank0_call

if TYPE_CHECKING:
    from gpfem.app.parameter_set import ParameterSet
    from gpfem.app.registry import RunContext
    from gpfem.drivers.stepping import StepControl
    from gpfem.drivers.timeloop import LoopSettings
    from gpfem.mesh import MeshBundle

__all__ = ["Run", "RunHooks", "loop_values", "pictures", "run_model"]

log = get_logger("run")


@dataclass
class Run:
    """One run in progress, as the hooks see it.

    Attributes:
        params: The resolved parameters (the spec's parameter set).
        ctx: The run context (run folder, communicator, ``--mesh``, ``--restart``).
        base: The mesh built by ``hooks.mesh`` (the base mesh of an adaptive run).
        model: The time model the loop runs (an :class:`~gpfem.amr.AdaptiveModel` when adaptive).
        adaptive: Whether ``hooks.adapt`` made the model.
        start: Values ``hooks.describe`` noted at setup (e.g. the DOFs), for the summary.
        result: What :func:`~gpfem.drivers.timeloop.run_time_loop` returned.
        initial: ``model.values`` before the loop.
        final: ``model.values`` after it.
        wall_s: Wall time of the loop (s).
        cpu_s: CPU time of the loop on this rank (s).
    """

    params: ParameterSet
    ctx: RunContext
    base: MeshBundle
    model: Any = None
    adaptive: bool = False
    start: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    initial: dict[str, Any] = field(default_factory=dict)
    final: dict[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0
    cpu_s: float = 0.0

    @property
    def mesh(self) -> MeshBundle:
        """The mesh now (an adaptive run's current mesh)."""
        return self.model.amesh.bundle if self.adaptive else self.base

    @property
    def physics(self) -> Any:
        """The model on the current mesh (the adaptive model's ``model``, else :attr:`model`)."""
        return self.model.model if self.adaptive else self.model


def _step_control(run: Run) -> StepControl:
    return step_control(run.params)


def _loop_settings(run: Run) -> LoopSettings:
    return loop_settings(run.params)


@dataclass(frozen=True)
class RunHooks:
    """The model-specific parts of a run (the module docstring says when each is called).

    ``mesh`` takes the parameters and the run context; every other hook takes the :class:`Run`, whose
    ``params``, ``ctx``, ``base`` (the mesh) and, once built, ``model`` it reads.

    Attributes:
        name: Prefix of the setup log line (``"cahn-hilliard"``).
        build: ``build(run) -> model``: a :class:`~gpfem.drivers.timeloop.TimeModel` on ``run.base`` with a
            ``close()`` (collective), e.g. ``lambda run: MyModel(run.base, run.params)``.
        mesh: ``mesh(params, ctx) -> MeshBundle``: ``ctx.mesh(builder)`` takes the ``--mesh`` file when one
            was given. ``None``: the ``--mesh`` file only.
        adapt: ``adapt(run, checkpoint) -> AdaptiveModel`` when ``amr = true`` (``checkpoint``: the file to
            restart from, or ``None``); ``None``: never adaptive.
        describe: ``describe(run) -> str``: the setup line's model part (DOFs, options); it may note values
            in ``run.start`` for the summary. ``None``: nothing.
        summary: ``summary(run) -> dict``: the summary's ``results`` from the finished loop, the model still
            open. ``None``: :func:`loop_values`.
        finish: ``finish(run) -> dict``: after the model is closed (post-processing, e.g. :func:`pictures`),
            added to the results. ``None``: nothing.
        columns: History columns, or ``columns(run)``; ``None``: ``step``, ``time``, ``dt`` and the keys of
            the model's history row.
        amr_columns: Columns an adaptive run adds.
        control: ``control(run) -> StepControl``; default: the ``dt*`` parameters
            (:func:`~gpfem.app.run_parameters.step_control`).
        settings: ``settings(run) -> LoopSettings``; default: ``t_end``, ``max_steps``, ``stop_times`` and
            the output parameters (:func:`~gpfem.app.run_parameters.loop_settings`).
    """

    name: str
    build: Callable[[Run], Any]
    mesh: Callable[[ParameterSet, RunContext], MeshBundle] | None = None
    adapt: Callable[[Run, Path | None], Any] | None = None
    describe: Callable[[Run], str] | None = None
    summary: Callable[[Run], dict[str, Any]] | None = None
    finish: Callable[[Run], dict[str, Any]] | None = None
    columns: Sequence[str] | Callable[[Run], Sequence[str]] | None = None
    amr_columns: Sequence[str] = ()
    control: Callable[[Run], StepControl] = _step_control
    settings: Callable[[Run], LoopSettings] = _loop_settings

    def history_columns(self, run: Run) -> list[str] | None:
        """The history columns of ``run`` (with :attr:`amr_columns` when adaptive)."""
        cols = self.columns(run) if callable(self.columns) else self.columns
        if cols is None:
            return None
        return [*cols, *self.amr_columns] if run.adaptive else list(cols)


def loop_values(run: Run) -> dict[str, Any]:
    """What every run's summary holds: ``steps``, ``rejected_steps``, ``final_time``, ``field_file``."""
    res = run.result
    return {"steps": res["steps"], "rejected_steps": res["rejected_steps"], "final_time": res["time"],
            "field_file": res["field_file"]}


def pictures(run: Run, draw: Callable[[], list[str]]) -> dict[str, Any]:
    """The pictures of a run: ``{"png": draw()}`` when ``png`` is true and the fields are a ``.pvd`` series.

    Rank 0 draws, every rank gets the list. Else ``{}`` (the command line then calls the spec's ``post``).
    """
    field_file = run.result.get("field_file")
    if not (run.params["png"] and field_file and str(field_file).endswith(".pvd")):
        return {}
    out = run.ctx.out_dir
    return {"png": rank0_call(run.ctx.comm, draw, out, share=True)}


def _make_model(hooks: RunHooks, p: ParameterSet, ctx: RunContext) -> Run:
    if hooks.mesh is not None:
        base = hooks.mesh(p, ctx)
    else:
        def no_builtin() -> MeshBundle:
            from gpfem.base.errors import ParameterError

            raise ParameterError("mesh", f"'{hooks.name}' has no built-in mesh: give --mesh FILE")

        base = ctx.mesh(no_builtin)
    run = Run(params=p, ctx=ctx, base=base)
    if hooks.adapt is not None and p.get("amr", False):
        checkpoint = ctx.out_dir / CHECKPOINT if ctx.restart is not None else None
        run.model, run.adaptive = hooks.adapt(run, checkpoint), True
    else:
        run.model = hooks.build(run)
    return run


def run_model(hooks: RunHooks, params: ParameterSet, ctx: RunContext) -> dict[str, Any]:
    """Run the model of ``hooks`` with resolved ``params`` in ``ctx``; return the summary's results.

    Args:
        hooks: The model's parts.
        params: Resolved parameters, the spec's :class:`~gpfem.app.parameter_set.ParameterSet` (converted
            once by :meth:`~gpfem.app.registry.Spec.runner`).
        ctx: The run context.

    Returns:
        The ``results`` of ``summary.json``.
    """
    t0 = time.perf_counter()
    run = _make_model(hooks, params, ctx)
    comm = ctx.comm
    try:
        what = hooks.describe(run) + ", " if hooks.describe is not None else ""
        mesh, ranks = run.mesh, comm.size if comm is not None else 1
        log.info(f"{hooks.name}: {mesh.source}, {mesh.num_cells_global()} cells, {what}{ranks} rank(s); "
                 f"setup {time.perf_counter() - t0:.1f} s")
        run.initial = run.model.values
        t1, c1 = time.perf_counter(), time.process_time()
        run.result = run_time_loop(run.model, hooks.control(run), hooks.settings(run), ctx,
                                   hooks.history_columns(run))
        run.wall_s, run.cpu_s = time.perf_counter() - t1, time.process_time() - c1
        run.final = run.model.values
        summary = hooks.summary(run) if hooks.summary is not None else loop_values(run)
    finally:
        run.model.close()
    if run.adaptive:
        summary.update(run.model.summary())
    if hooks.finish is not None:
        summary.update(hooks.finish(run))
    return summary
