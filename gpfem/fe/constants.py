"""Parameters as ``fem.Constant``: a new value changes an array, not the generated code.

A Python float in a UFL form is baked into the C code DOLFINx compiles, so every new value of ``kappa``
means a new compilation (and a new entry in the JIT cache). A ``fem.Constant`` is passed at assembly
time: a sweep over ``kappa`` compiles each form once. Every built-in model builds its forms from
:func:`constants`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from dolfinx import fem
    from dolfinx import mesh as dmesh

__all__ = ["constants"]


def constants(mesh: dmesh.Mesh, values: Mapping[str, Any], *names: str) -> tuple[fem.Constant, ...]:
    """One ``fem.Constant`` on ``mesh`` per name, holding ``values[name]`` (a number or an array).

    Example::

        kappa, W, L = constants(mesh, p, "kappa", "W", "mobility")
        kappa.value = 1.7  # the next assembly uses the new value; nothing is recompiled

    Raises:
        KeyError: If a name is not in ``values``.
    """
    from dolfinx import fem

    out = []
    for name in names:
        v = np.asarray(values[name], dtype=float)
        out.append(fem.Constant(mesh, float(v) if v.ndim == 0 else v))
    return tuple(out)
