"""One writer per run directory: an OS-level file lock held for the whole run.

Two processes appending to the same ``dialogues.jsonl`` both believe they own every
unfinished card, so each writes its own record of it. The lock (``filelock``, i.e.
``flock`` on Unix) is taken when the store opens and given back when it closes; the
kernel drops it when its process dies, so a lock left by a killed run is simply free
again and nobody has to delete anything. Who holds it (pid, host, since when) is
written beside it, ``run.lock.json``, only to name the holder when a second process
is refused.
"""

from __future__ import annotations

import os
import socket
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import orjson
from filelock import FileLock, Timeout

from interactive_agents.errors import RunLockedError, RunStorageError

LOCK = "run.lock"


def holder_path(lock_file: Path) -> Path:
    """Where the holder of ``lock_file`` describes itself."""
    return lock_file.with_name(lock_file.name + ".json")


def read_holder(lock_file: Path) -> dict[str, Any] | None:
    """The holder's description, or None when it is missing or unreadable."""
    try:
        holder = orjson.loads(holder_path(lock_file).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return holder if isinstance(holder, dict) else None


def _describe(holder: dict[str, Any] | None) -> str:
    if holder is None:
        return "a process that has not said who it is yet"
    return f"pid {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}"


class RunLock:
    """The exclusive lock of one run directory (or of any file with one writer).

    ``RunLock(directory)`` locks ``directory/run.lock``; ``RunLock.beside(file)`` locks
    ``file.lock`` for a single file such as a judge cache. Acquiring never waits: a
    second writer is refused at once with :class:`RunLockedError` naming the holder.
    """

    def __init__(self, directory: str | Path, *, name: str = LOCK) -> None:
        self.lock_file = Path(directory) / name
        self.target = self.lock_file.parent if name == LOCK else self.lock_file.with_suffix("")
        self._lock = FileLock(self.lock_file, thread_local=False)
        self._holder_pid: int | None = None  # the process that took it (a fork does not hold it)

    @classmethod
    def beside(cls, file: str | Path) -> RunLock:
        """The lock of a single file: ``<file>.lock`` in the same directory."""
        path = Path(file)
        return cls(path.parent, name=path.name + ".lock")

    @property
    def held(self) -> bool:
        """Whether this process holds the lock: asked before every line a run writes, so
        it is kept here rather than asked of filelock (whose check costs more)."""
        return self._holder_pid == os.getpid()

    def acquire(self) -> None:
        """Take the lock or raise :class:`RunLockedError`; records who holds it."""
        if self.held:
            return
        try:
            self.lock_file.parent.mkdir(parents=True, exist_ok=True)
            self._lock.acquire(blocking=False)
        except Timeout:
            raise RunLockedError(
                f"{self.target} is being written by {_describe(read_holder(self.lock_file))}: "
                "wait for it to finish, stop it, or write elsewhere (another --out); "
                "one writer at a time"
            ) from None
        except OSError as exc:
            raise RunStorageError(f"{self.lock_file}: cannot take the lock ({exc})") from exc
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        temporary = holder_path(self.lock_file).with_suffix(".tmp")
        try:
            temporary.write_bytes(orjson.dumps(holder))
            os.replace(temporary, holder_path(self.lock_file))
        except OSError as exc:
            with suppress(OSError):
                temporary.unlink()
            self._lock.release()
            raise RunStorageError(
                f"{holder_path(self.lock_file)}: cannot be written ({exc.strerror or exc})"
            ) from exc
        self._holder_pid = os.getpid()

    def release(self) -> None:
        """Give the lock back (a no-op when it is not held)."""
        if not self.held:
            return
        self._holder_pid = None
        with suppress(OSError):
            holder_path(self.lock_file).unlink()
        self._lock.release()
