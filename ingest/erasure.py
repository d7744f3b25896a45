"""Erasure: removing one pupil from everything Pathways keeps, and keeping them out.

Used where the data protection officer decides the right to erasure applies (it often does not:
see docs/data-protection.md#rectification-and-erasure). ``erase`` removes the pupil's rows from

- every **archived upload** that holds them: the file is written again without those rows and
  archived under its new sha256; the upload's record and its raw rows point at the new file,
  and the rows keep their places in it (``row_number`` renumbered), so lineage stays whole;
  ``data_protection.archive_rewrites`` maps the old sha256 to the new;
- **quarantined uploads** (the file, and its reports regenerated without the pupil's rows),
  uploads **held for confirmation** (the file; the UPN blanked in their reports), files
  **waiting in the inbox**, and earlier **subject access exports** about them;
- the **raw tables** and every **pupil-level model table**.

It leaves a **tombstone**: the pupil's keyed pseudonym (HMAC of the UPN with the authority's
key; never the UPN) in ``data_protection.erased_pupils``. Any later upload is checked against
the tombstones before it is archived (``redact_incoming``: the file's rows about an erased
pupil are removed first, and the run says so), and the raw load refuses their rows too
(``ingest.pupil_records.without_erased``), so dropping an old file again cannot bring them back.
Like a purge, an erasure commits all at once or not at all (ingest/journal.py).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from config.settings import Settings
from ingest import journal, processing_log, pupil_records
from ingest.canonical import CanonicalTable, Finding, canonicalise
from ingest.file_redaction import is_table_file, mentions, rewrite_without, rows_holding, rows_of_pupil_keys
from ingest.identifiers import is_valid_upn, pseudonymise
from ingest.journal import Journal
from ingest.retention import SUBJECT_ACCESS_DIR, pupil_records_connection, rewrite_archived
from ingest.subject_access import REPORT_NAMES, dagster_mentions

# reports(file name, source label, rows read, findings) -> {report file name: text}; expectations/ supplies it
Reporter = Callable[[str, str, int, list[Finding]], dict[str, str]]


@dataclass
class ErasureResult:
    operation_id: str | None
    pupil_keys: list[str]
    already_erased: bool
    rows_deleted: dict[str, int] = field(default_factory=dict)
    archive_rewritten: list[dict] = field(default_factory=list)     # file, upload, old/new sha256, rows removed
    quarantine_rewritten: list[str] = field(default_factory=list)
    held_rewritten: list[str] = field(default_factory=list)
    inbox_rewritten: list[str] = field(default_factory=list)
    exports_deleted: list[str] = field(default_factory=list)        # subject access exports about the pupil
    elsewhere: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self) -> dict:
        return {"rows_deleted": self.rows_deleted, "archived_files_rewritten": len(self.archive_rewritten),
                "quarantined_files_rewritten": len(self.quarantine_rewritten),
                "held_files_rewritten": len(self.held_rewritten), "inbox_files_rewritten": len(self.inbox_rewritten),
                "subject_access_exports_deleted": len(self.exports_deleted)}

    def describe(self) -> str:
        lines = [f"Erasure {self.operation_id} committed ({self.seconds:.1f} s):" if self.operation_id else "Nothing changed:"]
        if self.already_erased and not (self.rows_deleted or self.archive_rewritten or self.quarantine_rewritten
                                        or self.held_rewritten or self.inbox_rewritten or self.exports_deleted):
            lines.append("  this pupil was already erased; no record of them remains")
        lines.append("  rows deleted: " + (", ".join(f"{t} {n:,}" for t, n in self.rows_deleted.items()) or "none"))
        for a in self.archive_rewritten:
            lines.append(f"  archived upload {a['source_file'] or a['file']}: {a['rows_removed']} row(s) removed; "
                         f"sha256 {a['old_sha256'][:12]}… -> {a['new_sha256'][:12]}…")
        for q in self.quarantine_rewritten:
            lines.append(f"  quarantined file rewritten: {q}")
        for q in self.held_rewritten:
            lines.append(f"  held upload rewritten: {q}")
        for q in self.inbox_rewritten:
            lines.append(f"  inbox file rewritten: {q}")
        for q in self.exports_deleted:
            lines.append(f"  subject access export deleted: {q}")
        lines.append("  tombstone kept (keyed pseudonym only): a later upload's rows about this pupil are refused")
        for e in self.elsewhere:
            lines.append(f"  STILL MENTIONED (delete by hand, e.g. `dagster run delete <run id>`): {e}")
        return "\n".join(lines)


def erase(settings: Settings, upns: list[str], reference: str | None = None, reports: Reporter | None = None,
          progress: Callable[[str], None] = lambda m: None) -> ErasureResult:
    """Remove the pupil with these UPNs from the archive, quarantine, inbox and warehouse, and
    keep a tombstone. ``reports`` regenerates a quarantined upload's reports without the pupil."""
    t0 = time.perf_counter()
    upns = [u.strip().upper() for u in upns]
    bad = [u for u in upns if not is_valid_upn(u)]
    if bad:
        raise ValueError(f"not a valid UPN (13 characters with the right check letter): {', '.join(bad)}")
    keys = pseudonymise(pl.Series(upns), settings.key).to_list()
    con = pupil_records_connection(settings)
    try:
        result = ErasureResult(None, keys, bool(pupil_records.erased(con, keys)))
        result.recovered = journal.recover(con, settings.data_dir, progress)
        started = datetime.now(UTC)
        op = Journal(f"erasure-{started.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}", "erasure")
        op.write(settings.data_dir)
        uploads = pupil_records.uploads(con)
        by_file = {Path(u["archived_path"]).name: u for u in uploads.iter_rows(named=True)} if uploads.height else {}
        in_raw = pupil_records.rows_per_upload(con, keys)
        repoint = []
        try:
            for path in _files(settings.archive_dir):
                drop = _rows(path, upns)
                if not drop:
                    continue
                sha, mapping = rewrite_archived(settings, path, drop, op, forbidden=upns)
                if path.name.split(".")[0] != sha:  # (never the file just written)
                    op.delete.append(str(path))
                upload = by_file.get(path.name)
                removed = sum(len(r) for r in drop.values())
                result.archive_rewritten.append({"file": path.name, "source_file": upload and upload["source_file"],
                                                 "upload_id": upload and upload["upload_id"], "old_sha256": path.name.split(".")[0],
                                                 "new_sha256": sha, "rows_removed": removed})
                if upload:
                    repoint.append((upload, sha, path.suffix.lower(), mapping))
                progress(f"rewrote archived {path.name} without {removed} row(s)")
            if settings.quarantine_dir.exists():
                for folder in sorted(p for p in settings.quarantine_dir.iterdir() if p.is_dir()):
                    for path in _files(folder):
                        drop = _rows(path, upns)
                        if drop:
                            _stage_rewrite(path, drop, upns, op)
                            _stage_reports(folder, path, drop, upns, reports, op)
                            result.quarantine_rewritten.append(str(path))
            if settings.held_dir.exists():
                for folder in sorted(p for p in settings.held_dir.iterdir() if p.is_dir()):
                    for path in _files(folder):
                        drop = _rows(path, upns)
                        if drop:
                            _stage_rewrite(path, drop, upns, op)
                            _stage_reports(folder, path, drop, upns, None, op)  # what it would remove: UPN blanked
                            result.held_rewritten.append(str(path))
            for path in _files(settings.inbox_dir, recursive=True):
                drop = _rows(path, upns)
                if drop:
                    _stage_rewrite(path, drop, upns, op)
                    result.inbox_rewritten.append(str(path))
            exports = settings.data_dir / SUBJECT_ACCESS_DIR
            for folder in sorted(p for p in exports.iterdir() if p.is_dir()) if exports.exists() else []:
                if any(mentions(p, upns) for p in folder.rglob("*") if p.is_file()):
                    op.delete.append(str(folder))  # an earlier subject access export about this pupil
                    result.exports_deleted.append(str(folder))
        except BaseException:
            journal.roll_back(op, settings.data_dir)
            raise
        nothing_held = not (in_raw or op.delete or op.replace or pupil_records.derived_rows(con, keys))
        if nothing_held and result.already_erased:
            journal.roll_back(op, settings.data_dir)  # asked again: nothing is left, the tombstone stands
            result.elsewhere = dagster_mentions(settings, upns)
            return result
        op.write(settings.data_dir)
        progress("files prepared")
        with journal.transaction(con, op, settings.data_dir, settings.warehouse, progress, applied="files replaced"):
            result.rows_deleted = pupil_records.delete_pupils(con, keys)
            progress("pupil rows deleted")
            for upload, sha, suffix, mapping in repoint:
                pupil_records.repoint_upload(con, upload["upload_id"], upload["source"], sha,
                                             str(settings.archive_dir / f"{sha}{suffix}"), mapping,
                                             in_raw.get(upload["upload_id"], 0))
            pupil_records.add_tombstones(con, keys, op.operation_id)
            for a in result.archive_rewritten:
                con.execute("INSERT INTO data_protection.archive_rewrites VALUES (?, ?, ?, 'erasure', ?, ?, now())",
                            [a["old_sha256"], a["new_sha256"], a["upload_id"], op.operation_id, a["rows_removed"]])
            con.execute("INSERT INTO data_protection.operations VALUES (?, 'erasure', ?, ?, ?, now(), ?)",
                        [op.operation_id, processing_log.current_user(), reference, started, json.dumps(result.counts())])
        result.operation_id = op.operation_id
    finally:
        con.close()
    result.elsewhere = dagster_mentions(settings, upns)
    result.seconds = time.perf_counter() - t0
    return result


def _files(folder: Path, recursive: bool = False) -> list[Path]:
    if not folder.exists():
        return []
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found if p.is_file() and not p.name.startswith(".") and is_table_file(p))


def _rows(path: Path, upns: list[str]) -> dict[str | None, set[int]]:
    """{sheet: row numbers} of the rows holding one of the UPNs (CSV rows under ``None``)."""
    if not mentions(path, upns):
        return {}
    is_csv = path.suffix.lower() not in (".xlsx", ".xlsm")
    return {(None if is_csv else f.sheet): set(f.rows["row_number"].to_list()) for f in rows_holding(path, upns)}


def _stage_rewrite(path: Path, drop: dict, upns: list[str], op: Journal) -> None:
    tmp = path.with_name(f".{path.name}.erasure.partial{path.suffix}")
    rewrite_without(path, tmp, drop, upns)
    op.replace.append((str(tmp), str(path)))


def _stage_reports(folder: Path, path: Path, drop: dict, upns: list[str], reports: Reporter | None, op: Journal) -> None:
    """A quarantined upload's reports again, without the findings about the erased rows (the
    other rows' numbers follow them up); without a reporter, the UPN is blanked in the text."""
    dropped = sorted(set().union(*drop.values()))
    report = folder / "report.json"
    if reports is not None and report.exists():
        data = json.loads(report.read_text())
        findings = []
        for f in data.get("findings", []):
            if f.get("row") in dropped or (f.get("value") or "").strip().upper() in upns:
                continue
            if f.get("row") is not None:
                f["row"] = f["row"] - sum(r < f["row"] for r in dropped)
            findings.append(Finding(**f))
        texts = reports(path.name, data.get("source", ""), max(int(data.get("rows") or 0) - len(dropped), 0), findings)
    else:
        texts = {}
        for name in REPORT_NAMES:
            p = folder / name
            if p.exists():
                text = p.read_text()
                for u in upns:
                    text = text.replace(u, "[erased]")
                texts[name] = text
    for name, text in texts.items():
        tmp = folder / f".{name}.erasure.partial"
        tmp.write_text(text)
        op.replace.append((str(tmp), str(folder / name)))


def redact_incoming(settings: Settings, con: duckdb.DuckDBPyConnection, table: CanonicalTable,
                    progress: Callable[[str], None] = lambda m: None) -> CanonicalTable:
    """Before an incoming file is archived: remove its rows about erased pupils (the file in the
    inbox is rewritten), log it, and return the file read again. Unchanged when none."""
    if not pupil_records.any_erased(con):
        return table
    path = table.path
    drop = rows_of_pupil_keys(path, pupil_records.erased(con), settings.key, known=table.raw)
    if not drop:
        return table
    tmp = path.with_name(f".{path.name}.erased.partial{path.suffix}")
    removed = rewrite_without(path, tmp, drop)
    os.replace(tmp, path)
    progress(f"removed {removed} row(s) about erased pupils from {path.name} before archiving it")
    processing_log.record(settings.data_dir, "erased_rows_refused", "done", {"file": path.name, "rows_removed": removed})
    return canonicalise(path)
