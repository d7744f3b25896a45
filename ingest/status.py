"""Where every file is: a model of the intake for ``pathways status`` (and any other face on it).

Every file the inbox holds is waiting, still arriving or ignored (each with why); every file
taken from it was loaded, found a duplicate, quarantined (with its report) or held for
confirmation. Read without opening the warehouse, so it works while a refresh runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from config.settings import KeyMissing, Settings
from ingest import ledger
from ingest.held import held_uploads
from ingest.inbox import scan_inbox
from ingest.lock import LockHolder, running_refresh


@dataclass
class FileStatus:
    file: str
    state: str                    # waiting | arriving | ignored | held | confirmed | quarantined | loaded | duplicate
    reason: str
    upload_id: str | None = None
    source: str | None = None
    at: str | None = None
    report: Path | None = None
    rows: int | None = None


@dataclass
class IntakeStatus:
    refresh: LockHolder | None                       # the refresh running now
    inbox: list[FileStatus] = field(default_factory=list)        # still in the inbox
    held: list[FileStatus] = field(default_factory=list)
    quarantined: list[FileStatus] = field(default_factory=list)
    taken: list[FileStatus] = field(default_factory=list)        # the latest files taken from the inbox, newest last
    key: str = ""                 # the key in use, by its fingerprint and where it comes from (or why there is none)

    def count(self, state: str) -> int:
        return sum(f.state == state for f in self.inbox + self.held + self.quarantined + self.taken)


def intake_status(settings: Settings, last: int = 50, now: float | None = None) -> IntakeStatus:
    status = IntakeStatus(running_refresh(settings))
    try:
        status.key = f"fingerprint {settings.key_fingerprint()} ({settings.key_source})"
    except KeyMissing as e:
        status.key = f"none: {e}"
    for f in scan_inbox(settings, now):
        status.inbox.append(FileStatus(f.name, {"ready": "waiting"}.get(f.state, f.state), f.reason))
    for h in held_uploads(settings):
        status.held.append(FileStatus(
            h.file, "confirmed" if h.confirmed else "held",
            (f"confirmed by {h.confirmed_by} at {h.confirmed_at}; loaded by the next refresh" if h.confirmed else
             f"{h.reason}; to load it: pathways confirm {h.upload_id}"),
            h.upload_id, h.source, h.held_at, h.folder / "report.txt"))
    if settings.quarantine_dir.exists():
        for folder in sorted(settings.quarantine_dir.iterdir(), key=lambda p: p.stat().st_mtime):
            report = folder / "report.json"
            if not folder.is_dir() or not report.exists():
                continue
            try:
                r = json.loads(report.read_text())
            except ValueError:
                continue
            errors = [f for f in r.get("findings", []) if f.get("severity") == "error"]
            rules = sorted({f["rule"] for f in errors})
            first = errors[0] if errors else {}
            where = ", ".join(w for w in (f"row {first['row']}" if first.get("row") is not None else "",
                                          f"column {first['column']}" if first.get("column") else "") if w)
            where = f"{where}: " if where else ""
            status.quarantined.append(FileStatus(
                r.get("file", folder.name), "quarantined",
                f"{', '.join(rules)}: {where}{first.get('message', '')}" if rules else "see the report",
                folder.name, r.get("source"), None, folder / "report.txt", r.get("rows")))
    for e in ledger.entries(settings, last=last):
        if e.get("fate") in ("loaded", "duplicate"):
            status.taken.append(FileStatus(e["file"], e["fate"], e.get("reason", ""), e.get("upload_id"), e.get("source"),
                                           e.get("at"), None, e.get("rows")))
    return status
