"""The ``periodic`` parameter: which axes of the domain are periodic (cheap to import: no DOLFINx).

Spelling, in a preset, a TOML config or ``--set``: ``"none"`` (default), ``"x"``, ``"x,y"``, ``"x,y,z"``,
``"all"`` (every axis of the mesh), a TOML list ``["x", "y"]`` or a TOML boolean (``true`` = ``all``).
"""

from __future__ import annotations

from gpfem.app.parameters import Parameter
from gpfem.base.errors import ParameterError

__all__ = ["AXES", "check_periodic", "periodic_axes", "periodic_parameter"]

AXES = ("x", "y", "z")
_NONE = ("", "none", "false", "no", "off", "0")
_ALL = ("all", "true", "yes", "on", "1")


def _tokens(value: str) -> list[str]:
    return [t for t in str(value).replace(",", " ").lower().split() if t]


def check_periodic(value: str) -> str | None:
    """``None`` if ``value`` names periodic axes correctly, else what is wrong (for :class:`Parameter`)."""
    toks = _tokens(value)
    if len(toks) == 1 and (toks[0] in _NONE or toks[0] in _ALL):
        return None
    if not toks:
        return None
    bad = [t for t in toks if t not in AXES]
    if bad:
        return f"unknown axis {bad}; use none, all, or a list of x, y, z (e.g. \"x,y\")"
    if len(set(toks)) != len(toks):
        return f"axis named twice in {value!r}"
    return None


def periodic_axes(value: str, gdim: int) -> tuple[int, ...]:
    """The periodic axes (0 = x, 1 = y, 2 = z) of ``value`` on a ``gdim``-dimensional mesh.

    Raises:
        ParameterError: If ``value`` is malformed or names an axis the mesh does not have.
    """
    msg = check_periodic(value)
    if msg:
        raise ParameterError("periodic", msg)
    toks = _tokens(value)
    if not toks or toks[0] in _NONE:
        return ()
    if toks[0] in _ALL:
        return tuple(range(gdim))
    axes = tuple(sorted(AXES.index(t) for t in toks))
    if axes[-1] >= gdim:
        raise ParameterError("periodic", f"axis '{AXES[axes[-1]]}' does not exist on a {gdim}D mesh")
    return axes


def periodic_parameter() -> Parameter:
    """The ``periodic`` parameter as models declare it."""
    return Parameter(
        "periodic", "none",
        "periodic axes: none | all | comma-separated x,y,z (opposite sides of the box or rectangle, or "
        "of a --mesh whose opposite sides match, are identified)",
        check=check_periodic,
    )
