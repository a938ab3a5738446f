"""Progress and warnings through :mod:`logging`: one ``gpfem`` logger, printed on rank 0 only.

The library never prints: every module logs to ``logging.getLogger("gpfem")`` (or a child such as
``gpfem.fracture``), which has only a :class:`logging.NullHandler` until someone configures it. The
command line calls :func:`configure_logging` (``--quiet``: warnings only, ``-v``: debug lines too); a
script can call it as well, or attach its own handlers as with any library.

Under MPI every rank logs the same collective messages; :func:`configure_logging` attaches the printing
handlers on rank 0 only, so a line appears once.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

__all__ = ["configure_logging", "get_logger", "logger"]

#: The package logger; modules log to it or to a child (``get_logger("fracture")``).
logger = logging.getLogger("gpfem")
logger.addHandler(logging.NullHandler())

_MARK = "_gpfem_cli_handler"


def get_logger(name: str | None = None) -> logging.Logger:
    """The ``gpfem`` logger, or its child ``gpfem.<name>``."""
    return logger if not name else logger.getChild(name)


class _Below(logging.Filter):
    """Pass records below a level (INFO and DEBUG to stdout; warnings go to stderr)."""

    def __init__(self, level: int):
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < self.level


class _Formatter(logging.Formatter):
    """Progress lines as they are; ``warning: ...`` / ``error: ...`` for the rest."""

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.levelno >= logging.WARNING:
            return f"gpfem: {record.levelname.lower()}: {msg}"
        return msg


def configure_logging(
    verbosity: int = 0,
    comm: Any = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> None:
    """Print the ``gpfem`` logger's records the way the command line does (idempotent).

    Args:
        verbosity: ``< 0``: warnings and errors only (``--quiet``); ``0``: progress (INFO); ``> 0``: also
            DEBUG lines (``-v``).
        comm: MPI communicator; only its rank 0 prints. ``None``: this process prints.
        stdout: Stream for progress lines (``sys.stdout`` by default).
        stderr: Stream for warnings and errors (``sys.stderr`` by default).
    """
    for h in list(logger.handlers):
        if getattr(h, _MARK, False):
            logger.removeHandler(h)
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    logger.setLevel(level)
    logger.propagate = False
    if comm is not None and comm.rank != 0:
        return
    out = logging.StreamHandler(stdout or sys.stdout)
    out.addFilter(_Below(logging.WARNING))
    err = logging.StreamHandler(stderr or sys.stderr)
    err.setLevel(logging.WARNING)
    for h in (out, err):
        h.setFormatter(_Formatter())
        setattr(h, _MARK, True)
        logger.addHandler(h)
