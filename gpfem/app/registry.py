"""The registry of runnable things: built-in models, ML experiments and plug-ins share one shape.

``gpfem run NAME`` looks ``NAME`` up here (:func:`get`), in this order:

1. a built-in (``gpfem/models/*_spec.py``, ``gpfem/ml/experiments_spec.py``);
2. ``NAME`` ending in ``.py`` (or naming an existing file): a model file, imported without installing;
3. ``module:attribute``: a :class:`Spec` (or a module, class or object carrying one) importable from the
   current folder or ``PYTHONPATH``;
4. an installed plug-in: an entry point ``NAME`` in the group ``gpfem.models`` (see ``docs/extending.md``).

A :class:`Spec` declares parameters and presets and how to run: :class:`~gpfem.app.runner.RunHooks` (the
model's parts; the shared :func:`~gpfem.app.runner.run_model` does the rest) or a ``run(params, ctx)``
callable (the older form), either as a ``"module:attribute"`` path imported lazily, so ``gpfem list`` never
imports DOLFINx or torch.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from gpfem.app.parameter_set import ParameterSet, make_parameters
from gpfem.app.parameters import Check, Parameter, resolve
from gpfem.app.size_check import SizeEstimate
from gpfem.base.errors import ParameterError
from gpfem.base.log import logger

if TYPE_CHECKING:  # gpfem list imports this module: no MPI, no DOLFINx at run time
    from importlib.metadata import EntryPoint

    from mpi4py import MPI

    from gpfem.app.runner import RunHooks
    from gpfem.mesh import MeshBundle

__all__ = ["ENTRY_POINT_GROUP", "RunContext", "Spec", "get", "names", "plugins", "register", "spec_of"]

#: Entry-point group of installed model plug-ins.
ENTRY_POINT_GROUP = "gpfem.models"


@dataclass
class RunContext:
    """What a run gets besides its parameters.

    Attributes:
        out_dir: Folder for every output of the run (exists).
        comm: The MPI communicator (``None`` for runs that do not use MPI).
        mesh_file: A user's ``.msh``/``.geo`` file replacing the preset's geometry, or ``None``.
        restart: A previous run's folder to continue from, or ``None``.
        log: Progress callable kept for older run functions; new code logs to the ``gpfem`` logger
            (:mod:`gpfem.base.log`), which this defaults to.
        preset: Name of the preset used.
        extra: Free-form extras (e.g. PETSc backend).
        stopped: Why the run ended before its end, set by :func:`~gpfem.drivers.timeloop.run_time_loop`
            (``"max_steps"``), else ``None``; the command line then writes the status ``stopped (...)``.
        mesh_values: The values of the spec's :attr:`Spec.mesh_parameters` (and the mesh file) this run
            builds its mesh from; the time loop stores them with every checkpoint and refuses a restart
            whose values differ. ``None``: not checked.
    """

    out_dir: Path
    comm: MPI.Comm | None = None
    mesh_file: Path | None = None
    restart: Path | None = None
    log: Callable[[str], None] = logger.info
    preset: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    stopped: str | None = None
    mesh_values: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir)

    def mesh(self, build: Callable[[], MeshBundle]) -> MeshBundle:
        """The user's ``--mesh`` file (read and distributed) if one was given, else ``build()``.

        Args:
            build: Makes the model's default mesh, e.g. ``lambda: rectangle(p["Lx"], ...)``.

        Returns:
            A :class:`~gpfem.mesh.MeshBundle`.
        """
        if self.mesh_file is not None:
            from mpi4py import MPI

            from gpfem.mesh import load_mesh

            return load_mesh(self.mesh_file, self.comm if self.comm is not None else MPI.COMM_WORLD)
        return build()


@dataclass(frozen=True)
class Spec:
    """A runnable model or experiment.

    Attributes:
        name: Name on the command line (``gpfem run NAME``).
        description: One line.
        parameters: Declared parameters (defaults, types, ranges).
        presets: Preset name -> parameter overrides. The first is the default preset.
        run: The run function ``run(params: dict, ctx: RunContext) -> dict`` (the summary's ``results``),
            or its ``"module:function"`` path (imported only when a run starts); ``None`` with ``hooks``.
        uses_mesh: Whether ``--mesh`` applies.
        preset_help: Preset name -> one line.
        post: ``post(run_dir, comm=None) -> list[str]`` remaking pictures from a run folder
            (``gpfem post``), or its path; ``None``: the run module's ``post`` if it has one.
        preset_aliases: Old preset name -> current name. An alias runs the current preset, under the
            current name, after a warning naming both.
        mesh_parameters: The parameters that define the mesh (its vertices): ``--restart`` refuses to change
            them, and a checkpoint stores their values (a restart on another mesh is refused).
        check: Checks across parameters that need no mesh (``dt_min <= dt <= dt_max``, ...):
            ``check(params) -> [(name, message), ...]``, run by :meth:`resolve` (the first problem is
            raised as a :class:`~gpfem.base.errors.ParameterError`); ``None``: none.
        estimate: ``estimate(params) -> SizeEstimate | None``: cells, DOFs and memory of the built-in
            mesh (:mod:`gpfem.app.size_check`), checked before the mesh is built; ``None``: no size check.
    """

    name: str
    description: str
    parameters: Sequence[Parameter]
    presets: Mapping[str, Mapping[str, Any]]
    run: str | Callable[..., dict[str, Any]] | None = None
    uses_mesh: bool = True
    preset_help: Mapping[str, str] = field(default_factory=dict)
    post: str | Callable[..., list[str]] | None = None
    preset_aliases: Mapping[str, str] = field(default_factory=dict)
    mesh_parameters: Sequence[str] = ()
    check: Check | None = None
    estimate: Callable[[Mapping[str, Any]], SizeEstimate | None] | None = None
    hooks: str | RunHooks | None = None
    _parameter_set: type[ParameterSet] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if (self.run is None) == (self.hooks is None):
            raise TypeError(f"Spec '{self.name}': give run= or hooks= (one of them)")

    def resolve(self, *sources: Mapping[str, Any] | None, model: str = "") -> dict[str, Any]:
        """The parameters from ``sources`` (later wins) over the defaults, each value and :attr:`check` done.

        ``model`` is how the user named the model (a name, a file, ``module:SPEC``), for the
        unknown-parameter error's ``gpfem list MODEL``.

        Raises:
            ParameterError: For an unknown key, an invalid value or a failed check across parameters.
        """
        return resolve(self.parameters, *sources, check=self.check, model=model)

    def parameters_class(self, name: str, module: str | None = None) -> type[ParameterSet]:
        """A frozen dataclass of these parameters, validated as :meth:`resolve` validates a dict.

        Args:
            name: Class name, e.g. ``"CahnHilliardParameters"``.
            module: ``__name__`` of the module that binds the class.

        Returns:
            A :class:`~gpfem.app.parameter_set.ParameterSet` subclass
            (:func:`~gpfem.app.parameter_set.make_parameters`).
        """
        cls = make_parameters(name, self, module=module)
        if self._parameter_set is None:  # the class a run's parameters are converted to
            object.__setattr__(self, "_parameter_set", cls)
        return cls

    def parameter_set(self) -> type[ParameterSet]:
        """The class :meth:`runner` converts resolved parameters to.

        The first :meth:`parameters_class` made (``CahnHilliardParameters``), else one named after the spec
        (``AllenCahnParameters``).
        """
        if self._parameter_set is None:
            words = re.split(r"[^0-9A-Za-z]+", self.name)
            self.parameters_class("".join(w[:1].upper() + w[1:] for w in words) + "Parameters")
        assert self._parameter_set is not None
        return self._parameter_set

    def size_estimate(self, params: Mapping[str, Any]) -> SizeEstimate | None:
        """The built-in mesh's :class:`SizeEstimate` for resolved ``params``, or ``None``."""
        return self.estimate(params) if self.estimate is not None else None

    def runner(self) -> Callable[[Mapping[str, Any], RunContext], dict[str, Any]]:
        """The run function (imported on first use).

        With :attr:`hooks`: the shared :func:`~gpfem.app.runner.run_model`, given the parameters converted
        once to :meth:`parameter_set` (they are checked again on the way). With :attr:`run`: that function,
        given the resolved dict as before.
        """
        if self.hooks is None:
            return _callable(self.run)
        from gpfem.app.runner import run_model

        hooks = _callable(self.hooks)
        cls = self.parameter_set()
        return lambda params, ctx: run_model(hooks, cls.of(params), ctx)

    def poster(self) -> Callable[..., list[str]] | None:
        """The post-processing function, or ``None``."""
        if self.post is not None:
            return _callable(self.post)
        ref = self.run if self.run is not None else self.hooks
        if isinstance(ref, str):
            return getattr(importlib.import_module(ref.partition(":")[0]), "post", None)
        return None

    def preset(self, name: str | None) -> tuple[str, dict[str, Any]]:
        """Return ``(name, overrides)`` of a preset (the first one when ``name`` is None).

        An alias (:attr:`preset_aliases`) logs a warning and returns the preset it stands for.

        Raises:
            ParameterError: For an unknown preset.
        """
        if name is None:
            name = next(iter(self.presets))
        if name in self.preset_aliases and name not in self.presets:
            new = self.preset_aliases[name]
            what = self.preset_help.get(new, "")
            logger.warning(f"preset '{name}' is an old name: it runs '{new}'" + (f" ({what})" if what else "")
                           + f"; use --preset {new}")
            name = new
        if name not in self.presets:
            raise ParameterError(
                "preset", f"unknown preset '{name}' for {self.name}; one of {', '.join(self.presets)}"
            )
        return name, dict(self.presets[name])


def _callable(ref: str | Any) -> Any:
    """``ref`` itself, or the object its ``"module:attribute"`` path names (imported now)."""
    if not isinstance(ref, str):
        return ref
    mod, _, fn = ref.partition(":")
    return getattr(importlib.import_module(mod), fn)


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
    """Add a spec to the built-in registry (called at import of the module defining it)."""
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
    """The built-in names."""
    _load()
    return list(_SPECS)


def spec_of(obj: Any, where: str = "") -> Spec:
    """The :class:`Spec` an object stands for.

    A ``Spec`` is itself; a module, class or object stands for its ``SPEC`` or ``spec`` attribute; a module
    without one for the only ``Spec`` among its globals.

    Raises:
        ParameterError: (``model``) If there is no unique ``Spec``.
    """
    if isinstance(obj, Spec):
        return obj
    for attr in ("SPEC", "spec"):
        found = getattr(obj, attr, None)
        if isinstance(found, Spec):
            return found
    if isinstance(obj, ModuleType):
        specs = {id(v): v for v in vars(obj).values() if isinstance(v, Spec)}
        if len(specs) == 1:
            return next(iter(specs.values()))
    raise ParameterError("model", f"{where or obj!r} defines no gpfem Spec (give it a SPEC = Spec(...))")


def _entry_points() -> list[EntryPoint]:
    from importlib.metadata import entry_points

    return list(entry_points(group=ENTRY_POINT_GROUP))


def plugins() -> dict[str, EntryPoint]:
    """Installed plug-ins: entry-point name -> entry point (not loaded)."""
    return {ep.name: ep for ep in _entry_points()}


def _from_file(path: Path) -> Spec:
    if not path.is_file():
        raise ParameterError("model", f"model file not found: {path}")
    path = path.resolve()
    mod_name = f"gpfem_model_{path.stem.replace('-', '_')}"
    if mod_name in sys.modules and getattr(sys.modules[mod_name], "__file__", None) == str(path):
        return spec_of(sys.modules[mod_name], str(path))
    if str(path.parent) not in sys.path:  # the file may import its neighbours
        sys.path.insert(0, str(path.parent))
    ispec = importlib.util.spec_from_file_location(mod_name, path)
    if ispec is None or ispec.loader is None:
        raise ParameterError("model", f"cannot import {path}")
    module = importlib.util.module_from_spec(ispec)
    sys.modules[mod_name] = module
    try:
        ispec.loader.exec_module(module)
    except Exception as e:
        del sys.modules[mod_name]
        raise ParameterError("model", f"importing {path} failed: {type(e).__name__}: {e}") from None
    return spec_of(module, str(path))


def _from_reference(ref: str) -> Spec:
    mod_name, _, attr = ref.partition(":")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:  # like ``python -m``: the current folder
        sys.path.insert(0, str(Path.cwd()))
    try:
        obj: Any = importlib.import_module(mod_name)
    except ImportError as e:
        raise ParameterError("model", f"cannot import '{mod_name}': {e}") from None
    for part in filter(None, attr.split(".")):
        if not hasattr(obj, part):
            raise ParameterError("model", f"'{mod_name}' has no attribute '{attr}'")
        obj = getattr(obj, part)
    return spec_of(obj, ref)


def get(name: str) -> Spec:
    """Look up a model by name, file, ``module:attribute`` or installed plug-in (see the module doc).

    Raises:
        ParameterError: (``model``) For an unknown name or a reference that yields no :class:`Spec`.
    """
    _load()
    if name in _SPECS:
        return _SPECS[name]
    if name.endswith(".py") or Path(name).is_file():
        return _from_file(Path(name))
    if ":" in name:
        return _from_reference(name)
    found = plugins()
    if name in found:
        try:
            obj = found[name].load()
        except Exception as e:
            raise ParameterError("model", f"plug-in '{name}' ({found[name].value}) failed to load: "
                                 f"{type(e).__name__}: {e}") from None
        return spec_of(obj, f"plug-in '{name}' ({found[name].value})")
    known = [*_SPECS, *found]
    raise ParameterError("model", f"unknown model '{name}'; one of {', '.join(known)} "
                         "(or a model file path.py, or module:SPEC)")
