"""The lock of a run folder: one gpfem run (or ``--restart``) writes into a folder at a time.

Rank 0 holds ``<folder>/.gpfem.lock`` for the run's life: the file names the host, the process id and the
start time, and is held with ``fcntl.flock``, which the operating system releases when the process dies
however it dies. A second run into the folder finds the lock held and is refused in one line
(:class:`~gpfem.base.errors.RunFolderBusy`, exit code 1). A lock file left by a process that died (killed,
node crashed) is not held: it is said in a warning and taken over.

Where the file system has no ``flock`` (some network file systems), the file's content decides: a lock of a
process of this host that is no longer alive is stale and taken over; a live one, or one of another host,
is respected (remove the file by hand if that host's run is known to be dead).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import json
import os
import socket
from pathlib import Path
from typing import Any

from gpfem.base.errors import RunFolderBusy
from gpfem.base.log import logger
from gpfem.io.collective import rank0_call

__all__ = ["LOCK_NAME", "RunLock", "pid_alive"]

#: The lock file's name in a run folder.
LOCK_NAME = ".gpfem.lock"

try:
    import fcntl
except ImportError:  # not POSIX
    fcntl = None  # type: ignore[assignment]


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _holder(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
        return data if isinstance(data, dict) else {}
    except ValueError:
        return {}


def _who(h: dict[str, Any]) -> str:
    if not h:
        return "an unknown process"
    return f"pid {h.get('pid', '?')} on {h.get('host', '?')} (since {h.get('since', '?')})"


class RunLock:
    """The lock of a run folder (see the module doc); a context manager, collective with a communicator.

    Args:
        folder: The run folder (exists).
        comm: MPI communicator (rank 0 holds the lock) or ``None``.
    """

    def __init__(self, folder: str | Path, comm: Any = None):
        self.path = Path(folder) / LOCK_NAME
        self.comm = comm
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        """Take the lock (collective).

        Raises:
            RunFolderBusy: On every rank, if another live process holds it.
            OutputError: On every rank, if the lock file cannot be created.
        """
        rank0_call(self.comm, self._acquire, self.path, "create")
        return self

    def _acquire(self) -> None:
        me = {"host": socket.gethostname(), "pid": os.getpid(),
              "since": _dt.datetime.now().isoformat(timespec="seconds")}
        for _ in range(5):  # the holder may remove the file between our open and our flock: try again
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                if not self._lock_fd(fd):
                    who = _who(self._read(fd))
                    raise RunFolderBusy(self.path.parent, f"in use by gpfem {who}; wait for it to end or "
                                        "choose another --out", "use run folder")
                try:
                    same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
                except FileNotFoundError:
                    same = False
                if not same:
                    os.close(fd)
                    continue
                old = self._read(fd)
                if old:
                    logger.warning(f"{self.path}: took over the stale lock of {_who(old)}: it no longer runs")
                os.ftruncate(fd, 0)
                os.pwrite(fd, (json.dumps(me) + "\n").encode(), 0)
                self._fd = fd
                return
            except BaseException:
                if self._fd != fd:
                    os.close(fd)
                raise
        raise RunFolderBusy(self.path.parent, "its lock keeps changing hands", "use run folder")

    def _lock_fd(self, fd: int) -> bool:
        """Lock ``fd`` (``flock``; without it, the pid check); False if a live process holds it."""
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False
            except OSError as e:
                if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                    raise
        old = self._read(fd)  # no flock here: the holder's host and pid decide
        if not old:
            return True
        if old.get("host") == socket.gethostname() and old.get("pid") != os.getpid():
            return not pid_alive(int(old.get("pid", 0)))
        return old.get("pid") == os.getpid() and old.get("host") == socket.gethostname()

    @staticmethod
    def _read(fd: int) -> dict[str, Any]:
        try:
            return _holder(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
        except OSError:
            return {}

    def release(self) -> None:
        """Remove the lock file and let it go.

        Rank 0 alone, no collective: it also runs on the way out of a failure that only some ranks saw. Never
        raises; at worst the next run finds an unheld lock file and takes it over.
        """
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError):
            os.close(fd)  # closing the descriptor releases the flock

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
