"""The time loop shared by the time-dependent models: step, record, write, checkpoint, restart.

A model implements :class:`TimeModel`; :func:`run_time_loop` does the rest: adaptive steps landing on the
requested output times, one ``history.csv`` row per accepted step (flushed), fields every
``field_interval`` steps (the ``.pvd`` index is valid after each), a checkpoint every
``checkpoint_interval`` steps and on a stop (SIGTERM, Ctrl-C: :mod:`gpfem.base.interrupt`), and restart
from the last checkpoint (history rows and field entries after it are dropped, the same files go on). The
checkpoint written on a stop holds the last accepted step, the one in the last ``history.csv`` row,
whatever the stop interrupted.

:class:`~gpfem.drivers.gradient_flow.GradientFlow` (time-dependent) and
:class:`~gpfem.drivers.quasistatic.QuasiStatic` (load steps, the pseudo-time is the load path's length) are
ready-made :class:`TimeModel` s.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gpfem.base.errors import GpfemError, OutputError
from gpfem.base.interrupt import stop_requested
from gpfem.base.log import logger
from gpfem.drivers.stepping import AdaptiveStepper, StepControl, StepResult
from gpfem.io.checkpoint import MESH_KEY
from gpfem.io.run_output import CHECKPOINT, HISTORY, MemoryOutput, RunFolder, RunOutput, as_output

if TYPE_CHECKING:
    from mpi4py import MPI

    from dolfinx import fem

    from gpfem.drivers.stop_rules import StopRule

__all__ = ["CHECKPOINT", "LoopSettings", "TimeModel", "run_time_loop"]


class TimeModel(Protocol):
    """A time-dependent model, as the loop sees it."""

    comm: MPI.Comm

    def try_step(self, t: float, dt: float) -> StepResult:
        """Trial step (see :class:`~gpfem.drivers.stepping.Steppable`)."""

    def accept(self, t_new: float, dt: float, result: StepResult) -> None:
        """Commit the trial step."""

    def reject(self) -> None:
        """Roll back."""

    def history_row(self) -> dict[str, Any]:
        """Scalar values of the current (accepted) state for ``history.csv`` (reduced over ranks)."""

    def output_functions(self) -> list[fem.Function]:
        """Functions written to the field series (P1, named)."""

    def update_outputs(self) -> None:
        """Refresh the output functions from the state (e.g. collapse a mixed space)."""

    def checkpoint_fields(self) -> dict[str, tuple[fem.Function, int | None]]:
        """Fields needed to restart: name -> (function, sub-space index or None)."""

    def prepare(self, t: float) -> None:
        """Called once before the first step, when the state is set (initial state or checkpoint).

        Make the last-accepted copies and the measured values consistent with the state at time ``t``.
        """


@dataclass
class LoopSettings:
    """Run-length and output settings.

    Attributes:
        t_end: Final time.
        max_steps: Stop after this many accepted steps (0: no limit); a run that stops so before ``t_end``
            sets ``ctx.stopped = "max_steps"`` (status ``stopped (max_steps)`` in ``summary.json``).
        stop_times: Times the loop lands on exactly (fields are written there too).
        field_interval: Write fields every this many steps (0: only at stop times and the end).
        checkpoint_interval: Checkpoint every this many steps (0: only at the end and on Ctrl-C).
        output_format: ``vtk``, ``vtx`` or ``none``.
        progress_seconds: Minimum wall time between progress lines.
        stop_rule: Ends the run early: ``update(row) -> str | None`` on every history row (the loop takes
            rank 0's answer on every rank), ``state()``/``restore(state)`` for checkpoints, e.g.
            :class:`~gpfem.drivers.stop_rules.BrokenStop`. ``None``: run to ``t_end``.
    """

    t_end: float
    max_steps: int = 0
    stop_times: Sequence[float] = field(default_factory=list)
    field_interval: int = 10
    checkpoint_interval: int = 50
    output_format: str = "vtk"
    progress_seconds: float = 2.0
    stop_rule: StopRule | None = None


def run_time_loop(
    model: TimeModel,
    control: StepControl,
    settings: LoopSettings,
    output: RunOutput | MemoryOutput | RunFolder | None = None,
    columns: Sequence[str] | None = None,
    restart: bool | None = None,
) -> dict[str, Any]:
    """Run ``model`` from t = 0 (or the checkpoint) to ``t_end``.

    Args:
        model: The model.
        control: Step control (its ``dt`` is the first step).
        settings: Loop settings.
        output: Where to write: a :class:`~gpfem.io.run_output.RunOutput` (a run folder); ``None``: nowhere,
            the history comes back as arrays (``result["history"]``); a
            :class:`~gpfem.app.registry.RunContext` stands for the run folder of its ``out_dir`` (and
            ``restart``), and its ``mesh_values`` are stored with every checkpoint (a restart on another
            mesh is refused).
        columns: History columns; ``step``, ``time``, ``dt`` first. ``None``: those three, then the keys of
            ``model.history_row()`` (which should hold every key a step's ``StepResult.data`` adds).
        restart: Continue from the folder's ``checkpoint.npz``; ``None``: as ``output`` says.

    Returns:
        Final values: ``steps``, ``time``, ``rejected_steps``, ``last`` (last history row), ``field_file``,
        ``stopped_by`` (the stop rule's reason, or ``None``); with ``output=None`` also ``history``: column ->
        numpy array, one entry per accepted step (the initial state first).
    """
    out = as_output(output)
    out.open(model.comm)
    log = logger.info
    if restart is None:
        restart = out.restart
    t, step = 0.0, 0
    rule = settings.stop_rule
    stopped_by = None
    mesh_values = getattr(output, "mesh_values", None)  # stored with every checkpoint, checked on restart
    if restart:
        meta = out.load_checkpoint(model.checkpoint_fields(), mesh_values)
        t, step = float(meta["time"]), int(meta["step"])
        # the checkpoint's step, within the (possibly changed) bounds of this run
        control.dt = min(max(float(meta["dt"]), control.dt_min), control.dt_max)
        if rule is not None:
            rule.restore(meta.get("stop_rule"))
        log(f"restarted from {out.checkpoint} at step {step}, t = {t:.6g}")
    model.prepare(t)
    if columns is None:
        columns = ["step", "time", "dt", *(k for k in model.history_row() if k not in ("step", "time", "dt"))]
    history = out.history(columns, model.comm, append=restart, truncate_after=step if restart else None)
    fields = out.fields(model.output_functions(), settings.output_format, restart_time=t if restart else None)
    stepper = AdaptiveStepper(model, control)
    stops = sorted({float(s) for s in settings.stop_times if 0 < s < settings.t_end} | {settings.t_end})

    def record(dt: float, res: StepResult | None) -> dict[str, Any]:
        row = {"step": step, "time": t, "dt": dt, **model.history_row()}
        if res is not None:
            row.update(res.data)
        history.write(row)
        return row

    def checkpoint() -> None:
        meta: dict[str, Any] = {"time": t, "step": step, "dt": control.dt}
        if mesh_values is not None:
            meta[MESH_KEY] = dict(mesh_values)
        if rule is not None:
            meta["stop_rule"] = rule.state()
        extra = model.checkpoint_arrays() if hasattr(model, "checkpoint_arrays") else None
        out.save_checkpoint(model.checkpoint_fields(), meta, extra=extra)

    last = record(0.0, None) if not restart else {}
    if rule is not None and not restart:
        rule.update(last)
    model.update_outputs()
    if not restart:
        fields.write(t)
    t0 = time.perf_counter()
    progress = _Progress(t, step, settings.t_end, settings.max_steps)
    last_log = -1e9
    try:
        while t < settings.t_end * (1 - 1e-12) and (settings.max_steps <= 0 or step < settings.max_steps):
            target = next(s for s in stops if s > t * (1 + 1e-12))
            t_new, dt, res = stepper.step(t, target)
            if abs(t_new - target) <= 1e-9 * max(1.0, abs(target)):
                t_new = target
            t, step = t_new, step + 1
            last = record(dt, res)
            stopped_by = rule.update(last) if rule is not None else None
            if rule is not None and model.comm.size > 1:  # rank 0 decides: all stop at one step
                stopped_by = model.comm.bcast(stopped_by, root=0)
            at_stop = t == target or stopped_by is not None
            if (settings.field_interval > 0 and step % settings.field_interval == 0) or at_stop:
                model.update_outputs()
                fields.set_functions(model.output_functions())  # new ones after a mesh adaptation
                fields.write(t)
            if settings.checkpoint_interval > 0 and step % settings.checkpoint_interval == 0:
                checkpoint()
            now = time.perf_counter()
            line = progress.line(step, t, dt, last, now - t0)
            if now - last_log >= settings.progress_seconds:
                last_log = now
                log(line)
            else:
                logger.debug(line)
            if stopped_by is not None:
                log(f"{line}  stopped: {stopped_by}")
                break
            if stop_requested(model.comm):
                raise KeyboardInterrupt
    except KeyboardInterrupt as e:
        checkpoint()  # the stepper rolled an interrupted trial back: this is the last accepted state
        why = f" ({e})" if str(e) else ""
        log(f"stopped{why}; checkpoint of the last accepted step {step}, t = {t:.6g} written")
        raise
    except OutputError as e:
        # the field series failed (every rank raised it): keep what was computed if the disk takes it
        if Path(e.path).name not in (CHECKPOINT, HISTORY):
            try:
                checkpoint()
                log(f"checkpoint of the last accepted step {step}, t = {t:.6g} written")
            except GpfemError:
                pass  # the previous checkpoint is still whole
        raise
    finally:
        history.close()
        fields.close()
    checkpoint()
    cut = stopped_by is None and t < settings.t_end * (1 - 1e-12)  # only max_steps ends the loop early
    if cut and hasattr(output, "stopped"):  # the command line's RunContext: status "stopped (max_steps)"
        setattr(output, "stopped", "max_steps")  # noqa: B010
    end = (f"  stopped: max_steps = {settings.max_steps} reached before t_end = {settings.t_end:.6g}"
           if cut else "  done")
    log(progress.line(step, t, last.get("dt", 0.0), last, time.perf_counter() - t0) + end)
    return {
        "steps": step,
        "time": t,
        "rejected_steps": stepper.rejected,
        "last": last,
        "field_file": None if fields.path is None else fields.path.name,
        "stopped_by": stopped_by,
        **out.result(history),
    }


@dataclass
class _Progress:
    """How far a run is, and when it should end: progress lines (rank 0 prints them, :mod:`gpfem.base.log`).

    The fraction done is ``t / t_end`` (for :class:`~gpfem.drivers.quasistatic.QuasiStatic`, ``t`` is the
    length of the load path walked so far), or ``step / max_steps`` when that is further; the time left is
    the wall time so far over the fraction this run has done (a restart counts from its first step).
    """

    t_start: float
    step_start: int
    t_end: float
    max_steps: int = 0

    def fraction(self, t: float, step: int) -> float:
        """Fraction of the run done at time ``t``, step ``step`` (0 to 1)."""
        f = t / self.t_end if self.t_end > 0 else 1.0
        if self.max_steps > 0:
            f = max(f, step / self.max_steps)
        return min(max(f, 0.0), 1.0)

    def line(self, step: int, t: float, dt: float, row: Mapping[str, Any], wall: float) -> str:
        """``step  t  dt``, the first three other history columns, ``[wall s, % done, ~time left]``."""
        keys = [k for k in row if k not in ("step", "time", "dt")][:3]
        vals = "  ".join(f"{k}={row[k]:.6g}" if isinstance(row[k], float) else f"{k}={row[k]}"
                         for k in keys)
        f, f0 = self.fraction(t, step), self.fraction(self.t_start, self.step_start)
        left = f", ~{_duration(wall * (1.0 - f) / (f - f0))} left" if f0 < f < 1.0 else ""
        return f"step {step:6d}  t={t:.6g}  dt={dt:.3g}  {vals}  [{wall:.1f} s, {100 * f:.0f}% done{left}]"


def _duration(seconds: float) -> str:
    """A time span for people: ``42 s``, ``12 min``, ``3.5 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
