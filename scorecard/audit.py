"""The scorecard's audit log: every sign-in (and refusal), sign-out, page, download and refused
request, with who, from where, when and which publication.

Append-only SQLite in ``<data_dir>/access/audit.sqlite``, kept with the warehouse data (never
published). ``pathways users audit`` prints it. Sign-ins, sign-outs and downloads also join the
processing log the data protection officer reads (ingest/processing_log.py), with the signed-in
user as the actor; page views stay here (there are many, and they carry no data out).
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SIGN_IN = "sign-in"
SIGN_IN_REFUSED = "sign-in refused"
SIGN_OUT = "sign-out"
PAGE = "page"
DOWNLOAD = "download"
REFUSED = "refused"

_SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    username TEXT,
    address TEXT,
    path TEXT,
    status INTEGER,
    publication TEXT,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_log_username ON audit_log (username, id);
"""


@dataclass(frozen=True)
class Entry:
    at: str
    event: str
    username: str | None
    address: str | None
    path: str | None
    status: int | None
    publication: str | None
    detail: str | None


# the events that also go to the processing log, and the action each is recorded as there
PROCESSING_LOG_ACTIONS = {SIGN_IN: "scorecard sign-in", SIGN_IN_REFUSED: "scorecard sign-in refused",
                          SIGN_OUT: "scorecard sign-out", DOWNLOAD: "scorecard download"}


class AuditLog:
    def __init__(self, path: Path, data_dir: Path | None = None):
        self.path = path
        self.data_dir = data_dir
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._con().executescript(_SCHEMA)
        path.chmod(0o600)

    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=15, isolation_level=None)
            con.execute("PRAGMA synchronous = NORMAL")
            self._local.con = con
        return con

    def record(self, event: str, username: str | None = None, address: str | None = None, path: str | None = None,
               status: int | None = None, publication: str | None = None, detail: str | None = None) -> None:
        self._con().execute(
            "INSERT INTO audit_log (at, event, username, address, path, status, publication, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [datetime.now(UTC).isoformat(timespec="milliseconds"), event, username, address, (path or "")[:500], status,
             publication, (detail or "")[:500] or None])
        if self.data_dir is not None and event in PROCESSING_LOG_ACTIONS:
            from ingest.processing_log import record

            record(self.data_dir, PROCESSING_LOG_ACTIONS[event], "refused" if event == SIGN_IN_REFUSED else "done",
                   {"path": (path or "")[:200], "publication": publication, "address": address},
                   actor=username or "unknown", actor_type="signed_in_user")

    def recent(self, limit: int = 50, username: str | None = None, event: str | None = None) -> list[Entry]:
        where, params = [], []
        if username:
            where.append("username = ?")
            params.append(username)
        if event:
            where.append("event = ?")
            params.append(event)
        sql = ("SELECT at, event, username, address, path, status, publication, detail FROM audit_log"
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?")
        return [Entry(*r) for r in self._con().execute(sql, [*params, limit]).fetchall()][::-1]
