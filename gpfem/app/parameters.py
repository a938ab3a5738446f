"""Parameters: declared once per model, resolved from preset <- config TOML <- ``--set key=value``.

A model declares a list of :class:`Parameter`; :func:`resolve` merges the sources and validates every
value up front, so that bad input ends with one clear :class:`~gpfem.base.errors.ParameterError` naming
the parameter before any mesh is built or any solve starts:

- each value on its own (:meth:`Parameter.coerce`): type, finiteness (no ``nan``/``inf`` in a number or
  in a list of numbers), sign, bounds, choices, the parameter's ``check``; a list's elements have a
  type too (:attr:`Parameter.item`: ``float`` unless declared or the default says otherwise);
- the values together (``resolve(..., check=...)``, a model's :attr:`gpfem.app.registry.Spec.check`):
  orderings such as ``dt_min <= dt <= dt_max`` that need no mesh.

From Python, :func:`gpfem.app.parameter_set.make_parameters` turns a model's spec into a frozen dataclass
validated by the same :func:`resolve` and cross-checks as the command line.
"""

from __future__ import annotations

import builtins
import difflib
import math
import shlex
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpfem.base.errors import ParameterError

__all__ = [
    "Check",
    "Parameter",
    "load_config",
    "parse_assignments",
    "raise_first",
    "resolve",
    "unknown_parameter",
]

#: A check across parameters: resolved values -> ``(name, message)`` for each problem (empty: fine).
Check = Callable[[Mapping[str, Any]], Sequence[tuple[str, str]]]

_TYPES: dict[str, type] = {"float": float, "int": int, "str": str, "bool": bool}


@dataclass(frozen=True)
class Parameter:
    """One named, typed, documented parameter.

    Args:
        name: Name as used in formulas, presets, TOML and ``--set``.
        default: Default value (its type is the parameter's type unless ``type`` is given).
        help: One line: meaning and unit.
        type: ``float``, ``int``, ``str``, ``bool`` or ``list``; inferred from ``default`` if ``None``.
        positive: Value must be > 0.
        nonnegative: Value must be >= 0.
        bounds: Closed interval ``(lo, hi)`` the value must lie in (``None`` for open side).
        open_bounds: If True the interval in ``bounds`` is open.
        choices: Allowed values (for strings).
        check: Extra validator returning an error message or ``None``.
        item: Element type of a list parameter (``float``, ``int`` or ``str``). ``None``: the type of the
            default's elements, ``float`` for an empty default. Numbers must be finite.
    """

    name: str
    default: Any
    help: str
    type: builtins.type | None = None
    positive: bool = False
    nonnegative: bool = False
    bounds: tuple[float | None, float | None] | None = None
    open_bounds: bool = False
    choices: Sequence[Any] | None = None
    check: Callable[[Any], str | None] | None = field(default=None, compare=False)
    item: builtins.type | None = None

    @property
    def kind(self) -> builtins.type:
        """The Python type of the value."""
        if self.type is not None:
            return self.type
        if isinstance(self.default, bool):
            return bool
        if isinstance(self.default, int):
            return int
        if isinstance(self.default, float):
            return float
        if isinstance(self.default, list | tuple):
            return list
        return str

    @property
    def item_kind(self) -> builtins.type:
        """The type of a list parameter's elements (see :attr:`item`)."""
        if self.item is not None:
            return self.item
        elems = list(self.default) if isinstance(self.default, list | tuple) else []
        if elems and all(isinstance(e, str) for e in elems):
            return str
        if elems and all(isinstance(e, int) and not isinstance(e, bool) for e in elems):
            return int
        return float

    def describe(self) -> str:
        """A human-readable constraint string, e.g. ``'> 0'``."""
        parts = []
        if self.positive:
            parts.append("> 0")
        if self.nonnegative:
            parts.append(">= 0")
        if self.bounds is not None:
            lo, hi = self.bounds
            lb, rb = ("(", ")") if self.open_bounds else ("[", "]")
            parts.append(f"in {lb}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{rb}")
        if self.choices is not None:
            parts.append("one of " + "|".join(str(c) for c in self.choices))
        return ", ".join(parts)

    def _coerce_list(self, value: Any) -> list[Any]:
        """A list (from a TOML array or a ``[a, b]``/``a,b`` string) with elements of :attr:`item_kind`."""
        item = self.item_kind
        if isinstance(value, str):
            parts = [v.strip() for v in value.strip().strip("[]()").split(",")]
            value = [v.strip("'\"") if item is str else v for v in parts if v]
        if not isinstance(value, list | tuple):
            raise ValueError(value)
        try:
            if item is str:
                if not all(isinstance(v, str) for v in value):
                    raise ValueError(value)
                return list(value)
            out = [_to_int(self.name, v) if item is int else _to_float(v) for v in value]
        except ParameterError:
            raise
        except (TypeError, ValueError):
            raise ParameterError(self.name, f"expected a list of {_NUMBER.get(item, item.__name__)}, "
                                 f"got {list(value)!r}") from None
        bad = [v for v in out if not math.isfinite(v)]
        if bad:
            raise ParameterError(self.name, f"must be finite numbers, got {bad[0]!r}")
        return out

    def coerce(self, value: Any) -> Any:
        """Convert ``value`` (possibly a string from the command line) and validate it.

        Raises:
            ParameterError: On a wrong type or out-of-range value.
        """
        kind = self.kind
        try:
            if kind is bool:
                if isinstance(value, str):
                    low = value.strip().lower()
                    if low in ("1", "true", "yes", "on"):
                        value = True
                    elif low in ("0", "false", "no", "off"):
                        value = False
                    else:
                        raise ValueError(value)
                elif not isinstance(value, bool):
                    raise ValueError(value)
            elif kind is int:
                value = _to_int(self.name, value)
            elif kind is float:
                if isinstance(value, bool):
                    raise ValueError(value)
                value = float(value)
            elif kind is list:
                value = self._coerce_list(value)
            elif isinstance(value, list | tuple):  # a TOML list for a string parameter: "a,b"
                value = ",".join(str(v) for v in value)
            else:
                value = str(value)
        except ParameterError:
            raise
        except (TypeError, ValueError):
            raise ParameterError(
                self.name, f"expected {'a list' if kind is list else kind.__name__}, got {value!r}"
            ) from None
        if kind is float and not math.isfinite(value):
            raise ParameterError(self.name, f"must be finite, got {value!r}")
        if kind in (int, float):
            if self.positive and not value > 0:
                raise ParameterError(self.name, f"must be > 0, got {value!r}")
            if self.nonnegative and not value >= 0:
                raise ParameterError(self.name, f"must be >= 0, got {value!r}")
            if self.bounds is not None:
                lo, hi = self.bounds
                if self.open_bounds:
                    ok = (lo is None or value > lo) and (hi is None or value < hi)
                else:
                    ok = (lo is None or value >= lo) and (hi is None or value <= hi)
                if not ok:
                    raise ParameterError(self.name, f"must be {self.describe()}, got {value!r}")
        if self.choices is not None and value not in self.choices:
            raise ParameterError(
                self.name,
                f"must be one of {', '.join(map(str, self.choices))}; got {value!r}",
            )
        if self.check is not None:
            msg = self.check(value)
            if msg:
                raise ParameterError(self.name, msg)
        return value


_NUMBER = {float: "numbers", int: "integers"}


def _to_float(value: Any) -> float:
    """A number (or a string holding one) as a float; ``bool`` and anything else: ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(value)
    return float(value)


def _to_int(name: str, value: Any) -> int:
    """An integer-valued number or string (``"1e6"`` too) as an int.

    Raises:
        ValueError: Not an integer value.
        ParameterError: ``nan`` or ``inf``.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            value = float(value)
    if not math.isfinite(value):
        raise ParameterError(name, f"must be finite, got {value!r}")
    if not value.is_integer():
        raise ValueError(value)
    return int(value)


def raise_first(problems: Sequence[tuple[str, str]]) -> None:
    """Raise a :class:`ParameterError` for the first ``(name, message)`` of a :data:`Check`'s answer.

    Raises:
        ParameterError: If ``problems`` is not empty.
    """
    if problems:
        name, message = problems[0]
        raise ParameterError(name, message)


def unknown_parameter(name: str, known: Iterable[str], model: str = "") -> ParameterError:
    """The error for an unknown parameter ``name``: the closest known name, and where the list is."""
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    listing = f"gpfem list {shlex.quote(model)}" if model else "gpfem list"
    return ParameterError(name, f"unknown parameter{hint}; '{listing}' shows them all")


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """Parse ``key=value`` strings from ``--set``.

    Raises:
        ParameterError: If an item has no ``=`` or an empty key.
    """
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(item, "expected key=value")
        out[key] = value.strip()
    return out


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a TOML config file; a ``[parameters]`` table or top-level keys both work.

    Raises:
        ParameterError: If the file is missing or not valid TOML.
    """
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ParameterError("config", f"file not found: {p}") from None
    except tomllib.TOMLDecodeError as e:
        raise ParameterError("config", f"{p} is not valid TOML: {e}") from None
    if "parameters" in data and isinstance(data["parameters"], dict):
        extra = {k: v for k, v in data.items() if k != "parameters"}
        return {**extra, **data["parameters"]}
    return data


def resolve(
    declared: Sequence[Parameter],
    *sources: Mapping[str, Any] | None,
    check: Check | None = None,
    model: str = "",
) -> dict[str, Any]:
    """Merge parameter sources (later wins) over the declared defaults and validate all.

    Args:
        declared: The model's parameters.
        sources: Mappings such as preset values, config values, ``--set`` values.
        check: Checks across the coerced values (e.g. a model's ``Spec.check``); the first problem it
            reports is raised.
        model: How the user named the model (a name, a file, ``module:SPEC``): the unknown-parameter
            error names ``gpfem list MODEL``, which lists a model file's parameters too.

    Returns:
        A dict with every declared parameter, coerced and validated.

    Raises:
        ParameterError: For an unknown key, an invalid value, or a problem ``check`` reports.
    """
    by_name = {p.name: p for p in declared}
    values: dict[str, Any] = {p.name: p.default for p in declared}
    for src in sources:
        if not src:
            continue
        for key, val in src.items():
            if key not in by_name:
                raise unknown_parameter(key, by_name, model)
            values[key] = val
    out = {name: by_name[name].coerce(val) for name, val in values.items()}
    if check is not None:
        raise_first(check(out))
    return out
