"""Uploads held for confirmation: valid files whose load would remove more than a data lead would
expect (a short schools file, a census that would shrink a school-term by half).

A held upload waits in ``<data_dir>/held/<upload-id>/`` beside a report of what it would remove
(``report.txt``, ``.json``, ``.html``) and ``held.json``. ``pathways confirm <upload-id>`` marks it
confirmed (``confirmed.json``, saying who and when); the next refresh then loads it without the
limits. Deleting the folder drops it (the archive keeps a copy of every upload anyway).
"""

from __future__ import annotations

import getpass
import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from config.settings import Settings

HELD_META = "held.json"
CONFIRMED = "confirmed.json"


@dataclass
class HeldUpload:
    upload_id: str
    file: str                # the upload's name as it arrived
    path: Path               # where it waits
    source: str | None
    rule: str
    reason: str
    held_at: str
    confirmed_at: str | None = None
    confirmed_by: str | None = None

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class NotHeld(Exception):
    pass


REPORT_NAMES = {"report.txt", "report.json", "report.html", HELD_META, CONFIRMED}


def upload_folder(root: Path, upload_id: str, name: str) -> Path:
    """``root/<upload-id>``, or ``<upload-id>-2``, ... when the same content came under another name
    (each file keeps its own report)."""
    n = 1
    while True:
        folder = root / (upload_id if n == 1 else f"{upload_id}-{n}")
        taken = [p.name for p in folder.iterdir() if p.name not in REPORT_NAMES] if folder.exists() else []
        if not taken or name in taken or f"upload-{name}" in taken:
            folder.mkdir(parents=True, exist_ok=True)
            return folder
        n += 1


def stored_name(name: str, taken: set[str]) -> str:
    """The upload's name in a folder of reports: its own, unless a report has that name."""
    return name if name not in taken else f"upload-{name}"


def hold(settings: Settings, path: Path, sha: str, source: str | None, rule: str, reason: str,
         reports: dict[str, str]) -> HeldUpload:
    folder = upload_folder(settings.held_dir, sha[:16], path.name)
    reserved = set(reports) | {HELD_META, CONFIRMED}
    target = folder / stored_name(path.name, reserved)
    for name, text in reports.items():
        (folder / name).write_text(text)
    held_at = datetime.now().astimezone().isoformat(timespec="seconds")
    meta = {"upload_id": sha[:16], "sha256": sha, "file": path.name, "stored_as": target.name, "source": source,
            "rule": rule, "reason": reason, "held_at": held_at}
    (folder / HELD_META).write_text(json.dumps(meta, indent=2))
    if path.resolve() != target.resolve():
        shutil.move(str(path), target)
    return _read(folder)


def _read(folder: Path) -> HeldUpload | None:
    try:
        meta = json.loads((folder / HELD_META).read_text())
    except (OSError, ValueError):
        return None
    confirmed = {}
    if (folder / CONFIRMED).exists():
        try:
            confirmed = json.loads((folder / CONFIRMED).read_text())
        except ValueError:
            confirmed = {"confirmed_at": "?"}
    return HeldUpload(meta["upload_id"], meta["file"], folder / meta.get("stored_as", meta["file"]), meta.get("source"),
                      meta.get("rule", ""), meta.get("reason", ""), meta.get("held_at", ""),
                      confirmed.get("confirmed_at"), confirmed.get("confirmed_by"))


def held_uploads(settings: Settings) -> list[HeldUpload]:
    if not settings.held_dir.exists():
        return []
    found = [_read(f) for f in sorted(settings.held_dir.iterdir()) if f.is_dir()]
    return [h for h in found if h is not None and h.path.exists()]


def confirm(settings: Settings, upload_id: str, by: str | None = None) -> HeldUpload:
    """Mark a held upload confirmed: the next refresh loads it without the removal limits."""
    matches = [h for h in held_uploads(settings) if h.upload_id.startswith(upload_id.strip().lower())] if upload_id.strip() else []
    if len(matches) != 1:
        waiting = ", ".join(f"{h.upload_id} ({h.file})" for h in held_uploads(settings)) or "none"
        raise NotHeld(f"no single held upload has id '{upload_id}' (held now: {waiting})")
    held = matches[0]
    if not held.confirmed:
        (held.folder / CONFIRMED).write_text(json.dumps({
            "confirmed_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "confirmed_by": by or _user()}, indent=2))
    return _read(held.folder)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a name
        return "an unnamed user"


def release(held: HeldUpload) -> None:
    """The upload has been loaded (or quarantined from here): its folder goes."""
    shutil.rmtree(held.folder, ignore_errors=True)
