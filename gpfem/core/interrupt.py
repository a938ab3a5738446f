"""Graceful stop on Ctrl-C (SIGINT) or a batch system's SIGTERM: finish the step, checkpoint, exit.

A KeyboardInterrupt raised inside a PETSc callback would surface as a PETSc error and look like a failed
solve. So the handler only records the request; the time loop asks :func:`stop_requested` after each
accepted step (reduced over ranks, so every rank stops at the same step), writes a checkpoint and raises
``KeyboardInterrupt`` from plain Python. A second Ctrl-C stops at once.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["graceful_stop", "stop_requested"]

_requested = False


def _handler(signum: int, _frame: Any) -> None:
    global _requested
    if _requested and signum == signal.SIGINT:
        raise KeyboardInterrupt
    _requested = True
    name = signal.Signals(signum).name
    print(f"\ngpfem: {name} received: stopping after this step with a checkpoint "
          "(Ctrl-C again to stop now)", file=sys.stderr, flush=True)


@contextlib.contextmanager
def graceful_stop() -> Iterator[None]:
    """Install the SIGINT/SIGTERM handlers for the duration of a run (main thread only)."""
    global _requested
    _requested = False
    old = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, _handler)
    except ValueError:  # not the main thread: leave signals alone
        old = {}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)
        _requested = False


def stop_requested(comm: Any = None) -> bool:
    """Whether a stop was requested on any rank (collective when ``comm`` is given)."""
    if comm is None or comm.size == 1:
        return _requested
    from mpi4py import MPI

    return bool(comm.allreduce(_requested, op=MPI.LOR))
