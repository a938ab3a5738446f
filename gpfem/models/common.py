"""The shared run parameters under their older import path (:mod:`gpfem.app.run_parameters`)."""

from gpfem.app.run_parameters import (
    AMR_PARAMETERS,
    OUTPUT_PARAMETERS,
    TIME_PARAMETERS,
    amr_limits,
    loop_settings,
    step_bound_problems,
    step_control,
    time_problems,
)

__all__ = ["AMR_PARAMETERS", "OUTPUT_PARAMETERS", "TIME_PARAMETERS", "amr_limits", "loop_settings",
           "step_bound_problems", "step_control", "time_problems"]
