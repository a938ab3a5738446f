"""gpfem.ml: gradient penalties for ML critics and the toy experiments that measure what they do.

The critic penalty ``lambda E[(|grad_x D(x)| - c)^2]`` is the machine-learning twin of the
finite-element gradient energy ``(kappa/2) |grad phi|^2``: both put a cost on steep change of a field
with respect to its input. This package imports nothing from the finite-element side, and importing
``gpfem.ml`` itself does not import torch: the names below load :mod:`gpfem.ml.penalties` on first
access (so ``gpfem list`` stays fast).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "LazyRegularizer",
    "gradient_penalty",
    "input_gradient_penalty",
    "lazy_adam_hyperparameters",
    "parameter_gradient_penalty",
    "per_sample_norm",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("gpfem.ml.penalties"), name)
    raise AttributeError(f"module 'gpfem.ml' has no attribute {name!r}")
