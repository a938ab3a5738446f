"""gpfem: finite elements for gradient-penalty energies.

A bulk energy plus a penalty on sharp change, (kappa/2)|grad phi|^2, written once as a UFL energy,
differentiated by UFL, solved by PETSc under MPI — for Cahn-Hilliard, Ginzburg-Landau martensite and
phase-field fracture; and the same penalty for ML critics in :mod:`gpfem.ml`.

The library API is importable from here (``from gpfem import Energy, GradientFlow, run_time_loop``); each
name is imported on first use, so ``import gpfem`` (and ``gpfem list``, and every bad-input error) stays
free of DOLFINx, PETSc and torch. ``docs/extending.md`` builds a model from these names.

Models (``docs/extending.md``, "From Python"), each with its parameter dataclass:
    :class:`CahnHilliard`, :class:`CahnHilliardParameters`, :class:`Fracture`, :class:`FractureParameters`,
    :class:`Martensite`, :class:`MartensiteParameters`, :class:`ParameterSet`. Each model class carries
    its history columns (``CahnHilliard.COLUMNS``, ``Fracture.COLUMNS``, ``Martensite.columns(n)``) and the
    pictures of a run folder (``CahnHilliard.post``, ``Fracture.post``, ``Martensite.post``, as
    ``gpfem post`` makes them); fracture's closed forms :func:`c_w` and :func:`critical_stress`.
Energies and solvers:
    :class:`Energy`, :func:`gradient_penalty`, :func:`double_well`, :func:`constants`,
    :class:`NonlinearSolver`, :class:`SolveInfo`, :func:`destroy_petsc`, :class:`AlternateMinimisation`,
    :class:`HybridMinimisation`.
Drivers (ready-made time models) and the loop:
    :class:`GradientFlow`, :class:`QuasiStatic`, :class:`LoadPath`, :func:`run_time_loop`,
    :class:`LoopSettings`, :class:`TimeModel`, :class:`AdaptiveStepper`, :class:`StepControl`,
    :class:`StepResult`, :class:`Steppable`, :class:`EnergyRateStop` (a ``LoopSettings.stop`` rule).
Outputs:
    :class:`RunOutput` (a run folder for :func:`run_time_loop`; none: in memory), :class:`HistoryWriter`,
    :func:`read_history`, :class:`FieldWriter`, :class:`PvdIndex`,
    :func:`save_checkpoint`, :func:`load_checkpoint`, :func:`write_json`, :func:`write_table`,
    :func:`field_png` (one field of a ``.pvd`` series as a PNG), :func:`field_series`, :func:`history_curve`,
    :func:`writer_rank` (for a model's ``post``).
Meshes:
    :class:`MeshBundle`, :func:`rectangle`, :func:`box`, :func:`notched_plate`, :func:`t_shape`,
    :func:`sphere_surface`, :func:`load_mesh`, :func:`mesh_size`, :func:`vertex_random`,
    :func:`vertex_input_ids`.
Adaptive mesh refinement (``docs/amr.md``):
    :class:`AdaptiveMesh`, :class:`AmrLimits`, :class:`AdaptiveModel`, :class:`Transfer`,
    :func:`conserve_integral`, :func:`transfer_bounded`, :func:`interface_cells`, :func:`fracture_cells`.
Models as commands (``gpfem run``):
    :class:`Spec`, :class:`RunHooks` (a model's parts of a run; the shared :func:`run_model` does the
    rest), :class:`Run`, :func:`loop_values`, :func:`pictures`, :class:`RunContext`, :class:`Parameter`,
    :func:`resolve`, ``TIME_PARAMETERS``, ``OUTPUT_PARAMETERS``, ``AMR_PARAMETERS``, :func:`step_control`,
    :func:`loop_settings`.
Logging and errors:
    :func:`configure_logging`, :func:`get_logger`, :class:`GpfemError`, :class:`ParameterError`,
    :class:`MeshError`, :class:`ConvergenceError`, :class:`StepTooSmallError`, :class:`BackendError`.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> the module that defines it (imported on first access).
_API: dict[str, str] = {
    # models and their parameters
    "CahnHilliard": "gpfem.models.cahn_hilliard",
    "CahnHilliardParameters": "gpfem.models.cahn_hilliard_spec",
    "Fracture": "gpfem.models.fracture",
    "FractureParameters": "gpfem.models.fracture_spec",
    "Martensite": "gpfem.models.martensite",
    "MartensiteParameters": "gpfem.models.martensite_spec",
    "ParameterSet": "gpfem.app.parameter_set",
    "c_w": "gpfem.models.fracture_energy",
    "critical_stress": "gpfem.models.fracture_energy",
    # energies, forms, solvers
    "Energy": "gpfem.fe.energy",
    "gradient_penalty": "gpfem.fe.energy",
    "double_well": "gpfem.fe.energy",
    "constants": "gpfem.fe.constants",
    "NonlinearSolver": "gpfem.fe.solver",
    "SolveInfo": "gpfem.fe.solver",
    "destroy_petsc": "gpfem.fe.solver",
    "AlternateMinimisation": "gpfem.drivers.altmin",
    "HybridMinimisation": "gpfem.drivers.hybrid",
    # drivers and the loop
    "GradientFlow": "gpfem.drivers.gradient_flow",
    "QuasiStatic": "gpfem.drivers.quasistatic",
    "LoadPath": "gpfem.drivers.quasistatic",
    "run_time_loop": "gpfem.drivers.timeloop",
    "LoopSettings": "gpfem.drivers.timeloop",
    "TimeModel": "gpfem.drivers.timeloop",
    "AdaptiveStepper": "gpfem.drivers.stepping",
    "StepControl": "gpfem.drivers.stepping",
    "StepResult": "gpfem.drivers.stepping",
    "Steppable": "gpfem.drivers.stepping",
    "EnergyRateStop": "gpfem.drivers.stop_rules",
    # outputs
    "RunOutput": "gpfem.io.run_output",
    "HistoryWriter": "gpfem.io.history",
    "read_history": "gpfem.io.history",
    "FieldWriter": "gpfem.io.fields",
    "PvdIndex": "gpfem.io.pvd",
    "save_checkpoint": "gpfem.io.checkpoint",
    "load_checkpoint": "gpfem.io.checkpoint",
    "write_json": "gpfem.io.summary",
    "write_table": "gpfem.io.table",
    "field_png": "gpfem.io.plots",
    "field_series": "gpfem.io.plots",
    "history_curve": "gpfem.io.plots",
    "writer_rank": "gpfem.io.plots",
    # meshes
    "MeshBundle": "gpfem.mesh",
    "rectangle": "gpfem.mesh",
    "box": "gpfem.mesh",
    "notched_plate": "gpfem.mesh",
    "t_shape": "gpfem.mesh",
    "sphere_surface": "gpfem.mesh",
    "load_mesh": "gpfem.mesh",
    "mesh_size": "gpfem.mesh",
    "vertex_random": "gpfem.mesh",
    "vertex_input_ids": "gpfem.mesh",
    # adaptive mesh refinement (docs/amr.md)
    "AdaptiveMesh": "gpfem.amr",
    "AmrLimits": "gpfem.amr",
    "AdaptiveModel": "gpfem.amr",
    "Transfer": "gpfem.amr",
    "conserve_integral": "gpfem.amr",
    "transfer_bounded": "gpfem.amr",
    "interface_cells": "gpfem.amr",
    "fracture_cells": "gpfem.amr",
    # models as commands
    "Spec": "gpfem.app.registry",
    "RunContext": "gpfem.app.registry",
    "RunHooks": "gpfem.app.runner",
    "Run": "gpfem.app.runner",
    "run_model": "gpfem.app.runner",
    "loop_values": "gpfem.app.runner",
    "pictures": "gpfem.app.runner",
    "Parameter": "gpfem.app.parameters",
    "resolve": "gpfem.app.parameters",
    "TIME_PARAMETERS": "gpfem.app.run_parameters",
    "OUTPUT_PARAMETERS": "gpfem.app.run_parameters",
    "AMR_PARAMETERS": "gpfem.app.run_parameters",
    "step_control": "gpfem.app.run_parameters",
    "loop_settings": "gpfem.app.run_parameters",
    # logging and errors
    "configure_logging": "gpfem.base.log",
    "get_logger": "gpfem.base.log",
    "GpfemError": "gpfem.base.errors",
    "ParameterError": "gpfem.base.errors",
    "MeshError": "gpfem.base.errors",
    "ConvergenceError": "gpfem.base.errors",
    "BackendError": "gpfem.base.errors",
    "StepTooSmallError": "gpfem.drivers.stepping",
}

__all__ = ["__version__", *sorted(_API)]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'gpfem' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
