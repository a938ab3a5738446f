"""Typed parameter sets: a model's declared parameters as a frozen, validated dataclass (the Python API).

:func:`make_parameters` turns a model's list of :class:`~gpfem.app.parameters.Parameter` into a frozen
dataclass (one typed field per parameter, e.g.
:class:`gpfem.models.cahn_hilliard_spec.CahnHilliardParameters`) validated by the same
:func:`~gpfem.app.parameters.resolve` and cross-checks as the command line.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import field
from types import GenericAlias
from typing import Any, ClassVar, Self, cast

from gpfem.app.parameters import Check, Parameter, resolve, unknown_parameter
from gpfem.base.errors import ParameterError

__all__ = ["ParameterSet", "make_parameters"]


class ParameterSet(Mapping[str, Any]):
    """Base of the parameter dataclasses :func:`make_parameters` builds: frozen, typed, validated.

    The attributes (``params.kappa``) are the public form. The set is also a read-only mapping
    (``params["kappa"]``, ``get``, ``keys``, ``dict(params)``) equal to the dict :func:`resolve` returns for
    the same values, so code written for the command line's dict takes it unchanged.

    Raises:
        ParameterError: On construction, for a value out of range or a failed cross-check, naming the field.
    """

    #: The declared parameters, the cross-check and the spec (set by :func:`make_parameters`).
    _declared: ClassVar[tuple[Parameter, ...]] = ()
    _check: ClassVar[Check | None] = None
    _spec: ClassVar[Any] = None
    #: The dataclass fields (set by :func:`dataclasses.make_dataclass` on each subclass; declared, not
    #: assigned, so that this base itself is no dataclass).
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    def __post_init__(self) -> None:
        values = resolve(self._declared, {p.name: getattr(self, p.name) for p in self._declared},
                         check=type(self)._check)
        for name, value in values.items():  # coerced (e.g. an int given for a float)
            object.__setattr__(self, name, value)

    def __getitem__(self, key: str) -> Any:
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dataclass_fields__)

    def __len__(self) -> int:
        return len(self.__dataclass_fields__)

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` (validated again).

        Raises:
            ParameterError: For an unknown name or an invalid value.
        """
        for key in changes:
            if key not in self.__dataclass_fields__:
                raise unknown_parameter(key, self.__dataclass_fields__)
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_preset(cls, name: str | None = None, **overrides: Any) -> Self:
        """A named preset of the model (``gpfem list MODEL`` shows them), with ``overrides``.

        Raises:
            ParameterError: For an unknown preset or parameter, or an invalid value.
        """
        if cls._spec is None:
            raise ParameterError("preset", f"{cls.__name__} has no presets")
        _, values = cls._spec.preset(name)
        return cls.of({**values, **overrides})

    @classmethod
    def of(cls, values: Mapping[str, Any] | None = None) -> Self:
        """``values`` as this class: an instance is itself; a mapping is validated (missing keys: defaults).

        Raises:
            ParameterError: For an unknown key or an invalid value.
        """
        if isinstance(values, cls):
            return values
        values = dict(values or {})
        for key in values:
            if key not in cls.__dataclass_fields__:
                raise unknown_parameter(key, cls.__dataclass_fields__)
        return cls(**values)


def _annotation(p: Parameter) -> Any:
    kind = p.kind
    return GenericAlias(list, (p.item_kind,)) if kind is list else kind


def make_parameters(
    name: str,
    declared: Sequence[Parameter] | Any,
    check: Check | None = None,
    module: str | None = None,
    doc: str | None = None,
) -> type[ParameterSet]:
    """A frozen dataclass with one typed, defaulted, keyword-only field per parameter.

    Construction runs the checks of the command line (:func:`resolve` with ``check``), so
    ``CahnHilliardParameters(kappa=-1.0)`` raises the same :class:`ParameterError` as ``--set kappa=-1``.

    Args:
        name: Class name, e.g. ``"CahnHilliardParameters"``.
        declared: The parameters, or a :class:`~gpfem.app.registry.Spec` (its parameters, ``check`` and
            presets, for :meth:`ParameterSet.from_preset`).
        check: Checks across parameters (taken from the spec when ``declared`` is one).
        module: ``__name__`` of the module that defines the class (for pickling and documentation).
        doc: Class docstring; ``None``: one line naming the spec.

    Returns:
        A subclass of :class:`ParameterSet`.
    """
    spec: Any = None
    params: Sequence[Parameter]
    if hasattr(declared, "parameters"):
        spec = declared
        params, check = spec.parameters, spec.check if check is None else check
    else:
        params = declared
    fields: list[tuple[str, Any, Any]] = []
    for p in params:
        default: Any
        if isinstance(p.default, list | tuple):
            default = field(default_factory=functools.partial(list, tuple(p.default)))
        else:
            default = field(default=p.default)
        fields.append((p.name, _annotation(p), default))
    cls = cast(type[ParameterSet], dataclasses.make_dataclass(
        name, fields, bases=(ParameterSet,), frozen=True, eq=False, kw_only=True,
        namespace={"_declared": tuple(params), "_check": staticmethod(check) if check else None,
                   "_spec": spec},
        module=module))
    cls.__doc__ = doc or (f"Parameters of ``{spec.name}`` (see ``gpfem list {spec.name}``); "
                          if spec is not None else "Parameters; ") + "a :class:`ParameterSet`."
    init: Callable[..., None] = vars(cls)["__init__"]  # the one dataclasses generated

    @functools.wraps(init)
    def __init__(self: ParameterSet, **values: Any) -> None:
        for key in values:  # an unknown name: the command line's one line (with a close match)
            if key not in cls.__dataclass_fields__:
                raise unknown_parameter(key, cls.__dataclass_fields__)
        init(self, **values)

    type.__setattr__(cls, "__init__", __init__)
    return cls
