"""The run parameters every time-dependent model shares (time stepping, output, AMR), and their use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gpfem.app.parameters import Parameter

if TYPE_CHECKING:  # the spec modules import this file: keep it free of MPI and DOLFINx
    from gpfem.drivers.stepping import StepControl
    from gpfem.drivers.timeloop import LoopSettings

__all__ = ["AMR_PARAMETERS", "OUTPUT_PARAMETERS", "TIME_PARAMETERS", "amr_limits", "loop_settings",
           "step_bound_problems", "step_control", "time_problems"]

TIME_PARAMETERS = [
    Parameter("t_end", 100.0, "final time", positive=True),
    Parameter("dt", 0.01, "initial time step", positive=True),
    Parameter("dt_min", 1e-8, "smallest time step; a failure at this size stops the run", positive=True),
    Parameter("dt_max", 10.0, "largest time step", positive=True),
    Parameter("dt_grow", 1.25, "factor by which dt grows after an easy step", bounds=(1.0, 10.0)),
    Parameter("easy_iterations", 3, "a step with at most this many Newton iterations is easy",
              nonnegative=True),
    Parameter("max_steps", 0, "stop after this many accepted steps (0: no limit)", nonnegative=True),
    Parameter("stop_times", [], "times the stepper lands on exactly (fields written there)",
              type=list, item=float),
]

OUTPUT_PARAMETERS = [
    Parameter("field_interval", 10, "write fields every this many steps (0: stop times and end only)",
              nonnegative=True),
    Parameter("checkpoint_interval", 50, "checkpoint every this many steps (0: end and Ctrl-C only)",
              nonnegative=True),
    Parameter("output_format", "vtk", "field series: vtk (.pvd, ParaView+pyvista), vtx (.bp), none",
              choices=("vtk", "vtx", "none")),
    Parameter("png", True, "write the model's PNG pictures at the end (its post-processing)"),
]


AMR_PARAMETERS = [
    Parameter("amr", False, "adaptive mesh refinement (docs/amr.md): refine the mesh where the indicator of "
              "the model asks, within amr_max_levels and amr_max_dofs"),
    Parameter("amr_max_levels", 2, "most refinements of a cell of the base mesh", nonnegative=True),
    Parameter("amr_max_dofs", 0, "most global DOFs; the highest indicator values are refined first, equal "
              "ones by a fixed per-cell key (0: no limit)", nonnegative=True),
    Parameter("amr_buffer", 1, "rings of neighbour cells refined around the marked ones", nonnegative=True),
]


def step_bound_problems(p: Mapping[str, Any], first: str, smallest: str,
                        largest: str) -> list[tuple[str, str]]:
    """``smallest <= first <= largest`` for a step controller's three sizes (e.g. ``dt_min, dt, dt_max``).

    Returns:
        ``(name, message)`` pairs; the smallest size is named when it exceeds the largest.
    """
    lo, x, hi = p[smallest], p[first], p[largest]
    if lo > hi:
        return [(smallest, f"must be <= {largest} ({hi:g}), got {lo:g}")]
    if not lo <= x <= hi:
        return [(first, f"must lie in [{smallest}, {largest}] = [{lo:g}, {hi:g}], got {x:g}")]
    return []


def time_problems(p: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Checks across :data:`TIME_PARAMETERS` that need no mesh: ``dt_min <= dt <= dt_max``."""
    return step_bound_problems(p, "dt", "dt_min", "dt_max")


def amr_limits(p: Mapping[str, Any], dofs_per_vertex: int, h_min: float = 0.0) -> Any:
    """An :class:`~gpfem.amr.AmrLimits` from resolved parameters."""
    from gpfem.amr import AmrLimits

    return AmrLimits(max_levels=p["amr_max_levels"], max_dofs=p["amr_max_dofs"],
                     dofs_per_vertex=dofs_per_vertex, h_min=h_min, buffer=p["amr_buffer"],
                     bisect=bool(p.get("amr_bisect", False)))


def step_control(p: Mapping[str, Any]) -> StepControl:
    """A :class:`StepControl` from resolved parameters."""
    from gpfem.drivers.stepping import StepControl

    return StepControl(dt=p["dt"], dt_min=p["dt_min"], dt_max=p["dt_max"], grow=p["dt_grow"],
                       easy_iterations=p["easy_iterations"])


def loop_settings(p: Mapping[str, Any]) -> LoopSettings:
    """A :class:`LoopSettings` from resolved parameters."""
    from gpfem.drivers.timeloop import LoopSettings

    return LoopSettings(t_end=p["t_end"], max_steps=p["max_steps"], stop_times=p["stop_times"],
                        field_interval=p["field_interval"],
                        checkpoint_interval=p["checkpoint_interval"],
                        output_format=p["output_format"])
