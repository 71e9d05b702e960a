"""One lock per database, so two runs (cron, the daemon, a person) never overlap.

The lock is an ``flock`` on ``<database>.lock``, a file next to the database that holds the
holder's pid, start time and command, for the message a second run prints. The kernel drops
an ``flock`` when its holder dies, even by ``kill -9``, so a crashed run never leaves a lock
that blocks: a lock file left behind is just a file, overwritten by the next holder.

    with DatabaseLock(config.database):            # BusyError at once if another run holds it
    with DatabaseLock(config.database, wait=60):   # wait up to a minute, then BusyError

Not for network filesystems where ``flock`` is advisory per host (NFS): keep the database on
a local disk, as SQLite's WAL mode needs anyway.
"""

from __future__ import annotations

import fcntl
import math
import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from tracker.errors import BusyError, StoreError

#: How often a waiting run looks at the lock again.
POLL_SECONDS = 0.1


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def holder(path: Path) -> str:
    """What the lock file says about its holder ("pid 123 since …"), or "" when unreadable."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""
    fields = dict(part.split("=", 1) for part in text.split() if "=" in part)
    if "pid" not in fields:
        return ""
    since = f" since {fields['started']}" if "started" in fields else ""
    return f"pid {fields['pid']}{since}"


class DatabaseLock:
    """An exclusive, re-entrant-per-object lock on one database file.

    ``wait`` is how many seconds to wait for another holder (0: fail at once; ``math.inf``:
    wait for ever); ``cancel`` stops a wait early (the daemon's shutdown).
    """

    def __init__(
        self,
        database: Path,
        *,
        wait: float = 0,
        cancel: threading.Event | None = None,
    ) -> None:
        self.path = lock_path(database)
        self.wait = wait
        self.cancel = cancel
        self._fd: int | None = None
        self._depth = 0

    def acquire(self) -> None:
        if self._fd is not None:
            self._depth += 1
            return
        if not self.path.parent.is_dir():
            raise StoreError(f"database folder does not exist: {self.path.parent}")
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as e:
            raise StoreError(f"cannot create lock file: {self.path}") from e
        try:
            self._take(fd)
            started = datetime.now(UTC).replace(microsecond=0).isoformat()
            command = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
            info = f"pid={os.getpid()} started={started} command={command}\n".encode()
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, info, 0)
            except OSError:  # a full disk: the lock holds all the same, only unnamed
                pass
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._depth = 1

    def _take(self, fd: int) -> None:
        deadline = time.monotonic() + self.wait if math.isfinite(self.wait) else math.inf
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
            except OSError as e:
                raise StoreError(f"cannot lock: {self.path}") from e
            cancelled = self.cancel is not None and self.cancel.is_set()
            if cancelled or time.monotonic() >= deadline:
                who = holder(self.path)
                waited = f" (waited {self.wait:g} s)" if self.wait and not cancelled else ""
                raise BusyError(
                    "another tracker run is using the database"
                    + (f" ({who})" if who else "")
                    + f"{waited}; lock file {self.path}; try again later or use --wait"
                )
            time.sleep(POLL_SECONDS)

    def release(self) -> None:
        if self._fd is None:
            return
        self._depth -= 1
        if self._depth > 0:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)  # no holder any more; the file itself stays (see module doc)
        except OSError:
            pass
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> DatabaseLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
