"""The registry of runnable things: FE models and ML experiments share one shape.

``gpfem run NAME`` looks ``NAME`` up here. A :class:`Spec` declares parameters and presets and a
``run(params, ctx)`` callable that is imported lazily, so ``gpfem list`` never imports torch or compiles
forms.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpfem.core.errors import ParameterError
from gpfem.core.parameters import Parameter

__all__ = ["RunContext", "Spec", "get", "names", "register"]


@dataclass
class RunContext:
    """What a run gets besides its parameters.

    Attributes:
        out_dir: Folder for every output of the run (exists).
        comm: The MPI communicator (``None`` for runs that do not use MPI).
        mesh_file: A user's ``.msh``/``.geo`` file replacing the preset's geometry, or ``None``.
        restart: A previous run's folder to continue from, or ``None``.
        log: Prints a progress line (on rank 0 only).
        preset: Name of the preset used.
        extra: Free-form extras (e.g. PETSc backend).
    """

    out_dir: Path
    comm: Any = None
    mesh_file: Path | None = None
    restart: Path | None = None
    log: Callable[[str], None] = print
    preset: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Spec:
    """A runnable model or experiment.

    Attributes:
        name: Name on the command line (``gpfem run NAME``).
        description: One line.
        parameters: Declared parameters (defaults, types, ranges).
        presets: Preset name -> parameter overrides. The first is the default preset.
        run: ``"module:function"`` taking ``(params: dict, ctx: RunContext)`` and returning a summary dict.
        uses_mesh: Whether ``--mesh`` applies.
        preset_help: Preset name -> one line.
    """

    name: str
    description: str
    parameters: Sequence[Parameter]
    presets: Mapping[str, Mapping[str, Any]]
    run: str
    uses_mesh: bool = True
    preset_help: Mapping[str, str] = field(default_factory=dict)

    def runner(self) -> Callable[[dict[str, Any], RunContext], dict[str, Any]]:
        """Import and return the run function."""
        mod, _, fn = self.run.partition(":")
        return getattr(importlib.import_module(mod), fn)

    def preset(self, name: str | None) -> tuple[str, dict[str, Any]]:
        """Return ``(name, overrides)`` of a preset (the first one when ``name`` is None).

        Raises:
            ParameterError: For an unknown preset.
        """
        if name is None:
            name = next(iter(self.presets))
        if name not in self.presets:
            raise ParameterError(
                "preset", f"unknown preset '{name}' for {self.name}; one of {', '.join(self.presets)}"
            )
        return name, dict(self.presets[name])


_SPECS: dict[str, Spec] = {}
# Modules that define specs; imported lazily so that registering costs nothing.
_SPEC_MODULES = [
    "gpfem.models.cahn_hilliard",
    "gpfem.models.fracture",
    "gpfem.models.martensite",
    "gpfem.ml.experiments",
]
_loaded = False


def register(spec: Spec) -> Spec:
    """Add a spec to the registry (called at import of the module defining it)."""
    _SPECS[spec.name] = spec
    return spec


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for mod in _SPEC_MODULES:
        try:
            importlib.import_module(mod + "_spec")
        except ModuleNotFoundError as e:
            if e.name != mod + "_spec":
                raise


def names() -> list[str]:
    """All registered names."""
    _load()
    return list(_SPECS)


def get(name: str) -> Spec:
    """Look up a spec by name.

    Raises:
        ParameterError: For an unknown name.
    """
    _load()
    if name not in _SPECS:
        raise ParameterError("model", f"unknown model '{name}'; one of {', '.join(_SPECS)}")
    return _SPECS[name]
