"""Stopping a run on a signal: the last accepted state is checkpointed and the run exits with code 130.

The rules (one signal handler per run, installed by :func:`graceful_stop`):

* ``SIGTERM`` (a batch system's stop, ``scancel``, a time limit, ``kill``): stop now. The step in
  progress is abandoned within one Newton iteration, rolled back, and the last accepted state is written
  to the checkpoint. Further ``SIGTERM`` are ignored: under Slurm every rank gets one from Slurm and one
  forwarded by ``mpiexec``.
* First ``SIGINT`` (Ctrl-C): finish the step in progress, checkpoint, exit (interactive users keep the
  step they waited for). A second ``SIGINT`` acts as ``SIGTERM``; a third one ends the process at once
  without a checkpoint. Under MPICH's ``mpiexec`` only the first Ctrl-C reaches the ranks (the second one
  makes ``mpiexec`` kill them): use ``kill -TERM <mpiexec pid>`` to stop a parallel run now.

A signal handler only records the request: an exception raised inside a PETSc callback would surface as a
PETSc error on one rank. The request is turned into an action at points every rank reaches in the same
order, with a reduction so that all ranks act at the same one:

* :func:`stop_now` is called by the SNES monitor of every solver (:func:`snes_stop_monitor`, set by
  :mod:`gpfem.fe.solver`) at each Newton iteration; a ``True`` makes that solve end with
  ``SNES_DIVERGED_USER`` and raise :class:`Interrupted`. SNES calls its monitors collectively, once per
  iteration, and the number of iterations is decided from reduced norms, so every rank calls the monitor
  the same number of times in the same order and the reduction inside it always matches.
* :func:`stop_requested` is called by the time loop after each accepted step (any request, ``SIGINT``
  included).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["DIVERGED_USER", "Interrupted", "graceful_stop", "request_stop", "snes_stop_monitor", "stop_now",
           "stop_requested"]

#: ``SNES_DIVERGED_USER`` (missing from petsc4py's enum): set by :func:`snes_stop_monitor`, nowhere else.
DIVERGED_USER = -12

_requested = False  # stop after this step (first SIGINT, or any stop)
_urgent = False  # stop now (SIGTERM, second SIGINT)
_sigints = 0


class Interrupted(KeyboardInterrupt):
    """A stop was requested now: the trial step in progress is abandoned (and must be rolled back)."""


def _say(msg: str) -> None:
    # os.write, not print: a handler may run while the main thread is inside a print to stderr. No import
    # either (the main thread may hold the import lock): MPI only if it is already loaded. Rank 0 speaks.
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None and mpi.Is_initialized() and not mpi.Is_finalized() and mpi.COMM_WORLD.rank != 0:
        return
    os.write(2, f"\ngpfem: {msg}\n".encode())


def request_stop(urgent: bool) -> None:
    """Record a stop request as a signal would (for tests and embedding applications)."""
    global _requested, _urgent
    _requested = True
    _urgent = _urgent or urgent


def _handler(signum: int, _frame: Any) -> None:
    global _sigints
    name = signal.Signals(signum).name
    if signum == signal.SIGINT:
        _sigints += 1
        if _sigints >= 3:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)  # the default action: end now, no checkpoint
            return
    urgent = signum != signal.SIGINT or _sigints >= 2
    if urgent and _urgent:
        return  # already stopping now (e.g. Slurm's SIGTERM and the one mpiexec forwards)
    request_stop(urgent)
    if urgent:
        _say(f"{name} received: abandoning the step in progress, writing the last accepted state to the "
             "checkpoint")
    else:
        _say(f"{name} received: stopping after this step with a checkpoint (Ctrl-C again, or SIGTERM, "
             "to stop now)")


@contextlib.contextmanager
def graceful_stop() -> Iterator[None]:
    """Install the SIGINT/SIGTERM handlers for the duration of a run (main thread only)."""
    global _requested, _urgent, _sigints
    _requested = _urgent = False
    _sigints = 0
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
        _requested = _urgent = False
        _sigints = 0


def _any(flag: bool, comm: Any) -> bool:
    if comm is None or comm.size == 1:
        return flag
    from mpi4py import MPI

    return bool(comm.allreduce(flag, op=MPI.LOR))


def stop_requested(comm: Any = None) -> bool:
    """Whether any stop was requested on any rank (collective when ``comm`` is given)."""
    return _any(_requested, comm)


def stop_now(comm: Any = None) -> bool:
    """Whether an immediate stop was requested on any rank (collective when ``comm`` is given)."""
    return _any(_urgent, comm)


def snes_stop_monitor(snes: Any, _its: int, _norm: float, comm: Any) -> None:
    """A SNES monitor: end the solve with :data:`DIVERGED_USER` when any rank was asked to stop now.

    Collective: SNES calls its monitors on every rank once per Newton iteration (bind ``comm`` with
    ``functools.partial``).
    """
    if stop_now(comm):
        snes.setConvergedReason(DIVERGED_USER)
