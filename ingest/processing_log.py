"""The access and processing log: who did what to the pupil data, and when.

One append-only JSON-lines file kept with the warehouse (``<data_dir>/processing_log.jsonl``).
Every command that reads or changes personal data writes to it - refresh, ingest, validation,
publication, subject access, retention, erasure, dbt run by hand - and so can anything else
that serves the data (the scorecard's sign-ins, page views and downloads): call ``record``.

A file rather than a warehouse table, because DuckDB allows one writer: a web server logging a
download must not wait for (or block) a refresh. Appends are serialised by an exclusive lock
on the file, so writers in several processes never interleave, and each entry carries the
SHA-256 of the line before it: an entry removed or edited later breaks the chain, which
``verify`` reports (``pathways processing-log --verify``). The log never holds a UPN or a name:
where an entry concerns one pupil it holds their keyed pseudonym (``pupil_key``).

One entry (one line)::

    {"at": "2026-11-25T09:14:03.120581+00:00",   # UTC, ISO 8601
     "actor": "jsmith", "actor_type": "os_user",  # or "signed_in_user" (web), "service" (schedule)
     "action": "erasure",                         # ACTIONS below, or another short verb
     "outcome": "succeeded",                      # started | succeeded | failed | refused | done
     "details": {...},                            # counts, file names, ids; never pupil data
     "host": "...", "pid": 1234, "entry_id": "<uuid4 hex>", "prev_sha256": "<hex of the previous line>"}

DuckDB reads it directly: ``SELECT * FROM read_json('data/processing_log.jsonl')``.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

LOG_NAME = "processing_log.jsonl"
GENESIS = "0" * 64

# the verbs Pathways itself writes; a caller may add its own (e.g. the scorecard's "page_view")
ACTIONS = {
    "refresh": "a refresh of the warehouse and publication (any trigger)",
    "ingest": "uploads read from the inbox: archived, loaded or quarantined",
    "publish": "a publication written (aggregates only)",
    "validate": "an upload checked with `pathways validate` (read, not loaded)",
    "dbt": "a dbt command run by hand against the warehouse (`pathways dbt`)",
    "subject_access": "every record about one pupil found and exported for the data protection officer",
    "retention_review": "a dry run listing what is past its retention period",
    "retention_purge": "data past its retention period deleted",
    "erasure": "one pupil erased from the archive, quarantine and warehouse",
    "erased_rows_refused": "an incoming file's rows about an erased pupil removed before archiving or loading",
    "sign_in": "a signed-in user of a web page (written by the web scorecard)",
    "page_view": "a page of pupil-derived figures viewed (web scorecard)",
    "download": "a file downloaded (web scorecard)",
}


def log_path(data_dir: Path) -> Path:
    """Where the log of the warehouse in ``data_dir`` lives (beside warehouse.duckdb)."""
    return Path(data_dir) / LOG_NAME


def current_user() -> str:
    """The operating-system user running this process (and who they are under sudo)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        user = f"uid:{os.getuid()}"
    sudo = os.environ.get("SUDO_USER")
    return f"{sudo} (as {user})" if sudo and sudo != user else user


@dataclass(frozen=True)
class Entry:
    at: str
    actor: str
    actor_type: str
    action: str
    outcome: str
    details: dict
    entry_id: str
    prev_sha256: str
    host: str = ""
    pid: int = 0


def record(data_dir: Path, action: str, outcome: str = "done", details: dict | None = None, *,
           actor: str | None = None, actor_type: str | None = None) -> Entry:
    """Append one entry and return it. ``actor`` defaults to the OS user (``actor_type``
    "os_user"); a web page passes the signed-in user with ``actor_type="signed_in_user"``."""
    path = log_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o640)
    with os.fdopen(fd, "r+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes
        prev = _last_line(f)
        entry = Entry(
            at=datetime.now(UTC).isoformat(), actor=actor or current_user(),
            actor_type=actor_type or ("os_user" if actor is None else "signed_in_user"),
            action=action, outcome=outcome, details=details or {}, entry_id=uuid.uuid4().hex,
            prev_sha256=hashlib.sha256(prev).hexdigest() if prev else GENESIS,
            host=socket.gethostname(), pid=os.getpid())
        line = json.dumps(entry.__dict__, default=str, separators=(",", ":")).encode() + b"\n"
        f.write(line)
        f.flush()
        os.fsync(f.fileno())
    return entry


@contextmanager
def logged(data_dir: Path, action: str, details: dict | None = None, **kw) -> Iterator[dict]:
    """Log ``started``, then ``succeeded`` or ``failed`` (with the error) around a block. The
    block may add to the yielded dict; it is logged with the outcome."""
    record(data_dir, action, "started", details, **kw)
    extra: dict = {}
    try:
        yield extra
    except BaseException as e:
        record(data_dir, action, "failed", {**(details or {}), **extra, "error": f"{type(e).__name__}: {e}"[:500]}, **kw)
        raise
    record(data_dir, action, extra.pop("outcome", "succeeded"), {**(details or {}), **extra}, **kw)


def read(data_dir: Path) -> list[dict]:
    path = log_path(data_dir)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def verify(data_dir: Path) -> list[str]:
    """Problems with the chain (empty: every entry follows the one before it, none removed or edited)."""
    path = log_path(data_dir)
    if not path.exists():
        return []
    problems, prev = [], None
    for n, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            problems.append(f"line {n}: not JSON")
            prev = line
            continue
        expected = hashlib.sha256(prev).hexdigest() if prev is not None else GENESIS
        if entry.get("prev_sha256") != expected:
            problems.append(f"line {n}: does not follow line {n - 1} (an entry was removed or edited)")
        prev = line
    return problems


def _last_line(f) -> bytes:
    f.seek(0, os.SEEK_END)
    end = f.tell()
    if end == 0:
        return b""
    block, data = 4096, b""
    pos = end
    while pos > 0:
        step = min(block, pos)
        pos -= step
        f.seek(pos)
        data = f.read(step) + data
        lines = data.rstrip(b"\n").split(b"\n")
        if len(lines) > 1 or pos == 0:
            return lines[-1]
    return data.rstrip(b"\n")
