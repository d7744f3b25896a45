"""One refresh at a time.

The warehouse has one writer (DuckDB), and a refresh is a whole: ingest, dbt, checks, publish. A
refresh holds ``<data_dir>/refresh.lock`` with an exclusive ``flock`` for as long as it runs and
writes its pid, start time and trigger into it, so a second refresh can say plainly who holds it:
"a refresh is already running (started at ..., pid ...)". The kernel releases a ``flock`` when
its process ends, however it ends, so a lock left by a killed refresh is never in the way (its
stale content is recognised and replaced). A process that already holds the lock may take it
again (the command line takes it, then runs the Dagster job that takes it too).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from config.settings import Settings

_HELD: dict[Path, list] = {}      # lock file -> [fd, depth] held by this process
_GUARD = threading.Lock()


@dataclass(frozen=True)
class LockHolder:
    pid: int | None
    started_at: str | None
    trigger: str | None
    host: str | None

    def __str__(self) -> str:
        return f"started at {self.started_at or 'an unknown time'}, pid {self.pid if self.pid else 'unknown'}" + (
            f", {self.trigger}" if self.trigger else "")


class RefreshRunning(Exception):
    def __init__(self, holder: LockHolder, waited: float = 0):
        self.holder = holder
        super().__init__(f"a refresh is already running ({holder})"
                         + (f"; gave up after waiting {waited:.0f} s" if waited else ""))


def _read(path: Path) -> LockHolder | None:
    try:
        data = json.loads(path.read_text() or "null")
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    return LockHolder(data.get("pid"), data.get("started_at"), data.get("trigger"), data.get("host"))


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_refresh(settings: Settings) -> LockHolder | None:
    """The refresh running now, if any (read without taking the lock: safe beside a starting refresh)."""
    path = settings.refresh_lock_file
    if path in _HELD:
        return _read(path)
    holder = _read(path)
    if holder is None:
        return None
    if holder.host not in (None, socket.gethostname()):
        return holder  # another machine's process: cannot tell, so believe it
    return holder if _alive(holder.pid) else None


@contextmanager
def refresh_lock(settings: Settings, wait: float = 0, trigger: str = "pathways") -> Iterator[LockHolder]:
    """Hold the refresh lock for the block. ``wait``: seconds to wait for a running refresh (0: say
    so at once by raising ``RefreshRunning``)."""
    path = settings.refresh_lock_file
    with _GUARD:
        if path in _HELD:
            _HELD[path][1] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield _read(path) or LockHolder(os.getpid(), None, trigger, socket.gethostname())
        finally:
            with _GUARD:
                _HELD[path][1] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    t0 = time.monotonic()
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            waited = time.monotonic() - t0
            if waited >= wait:
                os.close(fd)
                holder = _read(path) or LockHolder(None, None, None, None)
                raise RefreshRunning(holder, waited if wait else 0) from None
            time.sleep(min(1.0, wait - waited))
    holder = LockHolder(os.getpid(), datetime.now().astimezone().isoformat(timespec="seconds"), trigger,
                        socket.gethostname())
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(holder.__dict__).encode(), 0)
    os.fsync(fd)
    with _GUARD:
        _HELD[path] = [fd, 1]
    try:
        yield holder
    finally:
        with _GUARD:
            del _HELD[path]
        try:
            os.ftruncate(fd, 0)  # an empty lock file: nobody is refreshing
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
