"""Rank-0-only file work with a collective verdict: an MPI run never hangs on a file error.

Rank 0 writes ``history.csv``, the JSON files, the ``.pvd`` index and the checkpoint, and reads them back on a
restart, while the other ranks wait. If rank 0 failed alone (disk full, no permission, a damaged file) and
the others went on to their next collective call, the job would hang until its allocation ran out. So every
such action goes through :func:`rank0_call`: rank 0 runs it, broadcasts success or the error, and every rank
raises the same typed error (:class:`~gpfem.base.errors.OutputError` for an operating-system error: the
command line prints ``cannot write PATH: REASON`` once and exits with code 1).

Work every rank does (DOLFINx's ``VTKFile`` writes one piece per rank) ends with :func:`agree`: a failure on
any rank is raised on all. :func:`atomic_write` replaces a file by write-then-rename and leaves no temporary
file behind when the write fails.
"""

from __future__ import annotations

import faulthandler
import os
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, overload

from gpfem.base.errors import GpfemError, OutputError

if TYPE_CHECKING:
    from mpi4py import MPI

__all__ = ["agree", "atomic_write", "atomic_write_text", "os_error", "rank0_call", "watchdog"]

#: Attribute set on an exception every rank raised at the same point (no rank waits in a collective).
AGREED = "_gpfem_agreed"


def os_error(path: object, err: BaseException, action: str = "write") -> OutputError:
    """An :class:`OutputError` naming ``path`` and the operating system's reason of ``err``."""
    reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
    return OutputError(path, reason, action)


def _report(err: BaseException) -> tuple[type[GpfemError] | None, str, dict[str, Any]]:
    """What the other ranks need to raise the same error: class (if typed), message, plain attributes."""
    if not isinstance(err, GpfemError):
        return None, f"{type(err).__name__}: {err}", {}
    attrs = {k: v for k, v in vars(err).items()
             if not k.startswith("_") and isinstance(v, str | int | float | bool | type(None))}
    return type(err), str(err), attrs


def _rebuild(cls: type[GpfemError], message: str, attrs: dict[str, Any]) -> GpfemError:
    """An instance of the typed error ``cls`` with ``message`` and ``attrs`` (its ``__init__`` may differ)."""
    try:
        err = cls.__new__(cls)
        Exception.__init__(err, message)
        for k, v in attrs.items():
            setattr(err, k, v)
    except Exception:  # noqa: BLE001 - any class that cannot be rebuilt becomes the base class
        err = GpfemError(message)
    return err


def _mark(err: BaseException) -> BaseException:
    setattr(err, AGREED, True)
    return err


@overload
def rank0_call[T](comm: MPI.Comm | None, fn: Callable[[], T], what: object, action: str = "write", *,
                  share: Literal[True]) -> T: ...
@overload
def rank0_call[T](comm: MPI.Comm | None, fn: Callable[[], T], what: object, action: str = "write",
                  share: bool = False) -> T | None: ...
def rank0_call[T](comm: MPI.Comm | None, fn: Callable[[], T], what: object, action: str = "write",
                  share: bool = False) -> T | None:
    """Run ``fn`` on rank 0 and give every rank its verdict (collective).

    Args:
        comm: MPI communicator, or ``None`` (this process alone runs ``fn``).
        fn: The work, without arguments.
        what: The file or folder ``fn`` works on (named in the error).
        action: The verb of the error line (``write``, ``read``, ``create``).
        share: Broadcast ``fn``'s result to every rank (else the other ranks get ``None``).

    Returns:
        ``fn()`` on rank 0 (on every rank with ``share``).

    Raises:
        OutputError: On every rank, if ``fn`` raised an ``OSError`` on rank 0.
        GpfemError: On every rank, of the same class and message, if ``fn`` raised one; for any other
            exception (a bug) rank 0 prints its traceback and every rank raises a :class:`GpfemError`.
    """
    rank = 0 if comm is None else comm.rank
    result: Any = None
    err: BaseException | None = None
    if rank == 0:
        try:
            result = fn()
        except GpfemError as e:
            err = e
        except OSError as e:
            err = os_error(getattr(e, "filename", None) or what, e, action)
            err.__cause__ = e
        except Exception as e:  # noqa: BLE001 - a bug: its traceback here, one typed error on every rank
            traceback.print_exc()
            err = GpfemError(f"{action} {what} failed: {type(e).__name__}: {e}")
            err.__cause__ = e
    if comm is None or comm.size == 1:
        if err is not None:
            raise _mark(err)
        return result
    verdict = _report(err) if rank == 0 and err is not None else None
    verdict, shared = comm.bcast((verdict, result if share and err is None else None), root=0)
    if verdict is not None:
        if rank == 0:
            raise _mark(err)  # type: ignore[arg-type]
        cls, message, attrs = verdict
        raise _mark(_rebuild(cls, message, attrs))
    return shared if share and rank != 0 else result


def agree(comm: MPI.Comm | None, err: BaseException | None) -> None:
    """Raise on every rank if any rank failed (collective): each rank passes its own error or ``None``.

    The lowest failing rank's message is raised on the ranks that did not fail (with its class if that is a
    :class:`GpfemError`); a failing rank raises its own error.
    """
    if comm is None or comm.size == 1:
        if err is not None:
            raise _mark(err)
        return
    from mpi4py import MPI

    if not comm.allreduce(int(err is not None), op=MPI.MAX):
        return
    reports = comm.allgather(None if err is None else _report(err))
    if err is not None:
        raise _mark(err)
    rank, (cls, message, attrs) = next((r, m) for r, m in enumerate(reports) if m is not None)
    raise _mark(_rebuild(cls, message, attrs) if cls is not None else GpfemError(f"rank {rank}: {message}"))


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object], *, tmp: str | Path | None = None,
                 before_replace: Callable[[], object] | None = None) -> Path:
    """Replace ``path`` by what ``write(fh)`` writes: a temporary file, flushed to disk, then renamed.

    What was at ``path`` stays whole until the rename; on failure the temporary file is removed.

    Args:
        path: The file to replace.
        write: Writes the new content to the open binary file.
        tmp: The temporary file (default ``<path>.tmp``, beside it).
        before_replace: Called after the new content is on disk, just before the rename (e.g. to keep the
            file being replaced as an older generation).

    Raises:
        OutputError: If writing or renaming failed (the operating system's reason).
    """
    p = Path(path)
    t = Path(tmp) if tmp is not None else p.with_name(p.name + ".tmp")
    try:
        with t.open("wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(t, p)
    except BaseException as e:
        try:
            t.unlink(missing_ok=True)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise os_error(p, e) from e
        raise
    return p


def atomic_write_text(path: str | Path, text: str) -> Path:
    """:func:`atomic_write` of a UTF-8 text."""
    data = text.encode("utf-8")
    return atomic_write(path, lambda fh: fh.write(data))


@contextmanager
def watchdog(comm: MPI.Comm | None, seconds: float) -> Iterator[None]:
    """End this process if the block does not end within ``seconds`` (a last resort against a hang).

    For the way out after a failure: if the ranks no longer meet in the same collective calls (an error
    raised on one rank only, by a bug), this rank prints where it waits (``Timeout (0:01:00)!`` and its
    Python stack, by :mod:`faulthandler`, whose timer needs no interpreter lock while MPI blocks) and exits
    with code 1, and ``mpiexec`` ends the other ranks: the job ends instead of waiting until its allocation
    runs out. Serial runs and ``comm=None`` are not watched.
    """
    if comm is None or comm.size == 1:
        yield
        return
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
