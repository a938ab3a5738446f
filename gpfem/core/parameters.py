"""Parameters: declared once per model, resolved from preset <- config TOML <- ``--set key=value``.

A model declares a list of :class:`Parameter`; :func:`resolve` merges the sources and validates every
value up front, so that bad input ends with one clear :class:`~gpfem.core.errors.ParameterError` naming
the parameter before any solve starts.
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

from gpfem.core.errors import ParameterError

__all__ = [
    "Parameter",
    "load_config",
    "parse_assignments",
    "resolve",
]

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
                if isinstance(value, bool):
                    raise ValueError(value)
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError(value)
                value = int(value)
            elif kind is float:
                if isinstance(value, bool):
                    raise ValueError(value)
                value = float(value)
            elif kind is list:
                if isinstance(value, str):
                    value = [float(v) for v in value.strip("[]() ").split(",") if v.strip()]
                value = list(value)
            elif isinstance(value, list | tuple):  # a TOML list for a string parameter: "a,b"
                value = ",".join(str(v) for v in value)
            else:
                value = str(value)
        except (TypeError, ValueError):
            raise ParameterError(
                self.name, f"expected {kind.__name__}, got {value!r}"
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


def _unknown(name: str, known: Iterable[str], model: str = "") -> ParameterError:
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
    model: str = "",
) -> dict[str, Any]:
    """Merge parameter sources (later wins) over the declared defaults and validate all.

    Args:
        declared: The model's parameters.
        sources: Mappings such as preset values, config values, ``--set`` values.
        model: How the user named the model (a name, a file, ``module:SPEC``): the unknown-parameter
            error names ``gpfem list MODEL``, which lists a model file's parameters too.

    Returns:
        A dict with every declared parameter, coerced and validated.

    Raises:
        ParameterError: For an unknown key or an invalid value.
    """
    by_name = {p.name: p for p in declared}
    values: dict[str, Any] = {p.name: p.default for p in declared}
    for src in sources:
        if not src:
            continue
        for key, val in src.items():
            if key not in by_name:
                raise _unknown(key, by_name, model)
            values[key] = val
    return {name: by_name[name].coerce(val) for name, val in values.items()}
