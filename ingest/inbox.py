"""The inbox flow: detect each file's source, validate, archive, then load or quarantine.

Order matters and never changes: a file is archived (immutable copy) before anything else
happens to it, so an upload is never lost; it is loaded in one transaction or not at all;
an invalid file is moved to ``quarantine/<upload-id>/`` with its report beside it and
nothing from it reaches the raw tables.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from config.settings import Settings
from ingest.archive import archive_file
from ingest.canonical import CanonicalTable, Finding, canonicalise, peek_source
from ingest.erasure import redact_incoming
from ingest.file_redaction import RewriteFailed
from ingest.identifiers import message_for_log, value_for_log
from ingest.readers import UnreadableFile
from ingest.warehouse import LoadResult, connect, ensure_raw_schema, load_upload

IGNORED_PREFIXES = (".", "~$", "_")


@dataclass
class InboxResult:
    loaded: list[LoadResult] = field(default_factory=list)
    duplicates: list[LoadResult] = field(default_factory=list)
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    warned: list[tuple[str, list[Finding]]] = field(default_factory=list)  # loaded files' warnings

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.loaded)


def inbox_files(inbox: Path) -> list[Path]:
    if not inbox.exists():
        return []
    return sorted(p for p in inbox.rglob("*") if p.is_file() and not p.name.startswith(IGNORED_PREFIXES)
                  and not p.name.endswith(".partial"))


def detect(path: Path) -> str | None:
    """The source a file holds, from its headers (None when unreadable or unknown)."""
    stat = path.stat()
    return _detect(path, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=4096)
def _detect(path: Path, size: int, mtime_ns: int) -> str | None:
    # cached by size and time: each source's asset scans the inbox, and an Excel file's headers
    # cost a read of the whole sheet
    try:
        source = peek_source(path)
    except UnreadableFile:
        return None
    return source.name if source else None


# validate(tables of one source, open warehouse connection) -> findings for each table, in order;
# the warehouse gives cross-file context
Validator = Callable[[list[CanonicalTable], object], list[list[Finding]]]
# reports(file name, source label, rows read, findings) -> {file name in the quarantine folder: text}
Reporter = Callable[[str, str, int, list[Finding]], dict[str, str]]


@dataclass
class IntakeChecks:
    """What the inbox flow needs from the layer above it (expectations/): the rules that judge a
    batch of uploads, and the reports a quarantined upload gets. Passed in, so ingest/ stays
    files in -> raw tables."""

    reports: Reporter
    validate: Validator | None = None


def process_inbox(settings: Settings, checks: IntakeChecks, sources: Iterable[str] | None = None,
                  progress: Callable[[str], None] = lambda m: None) -> InboxResult:
    """Ingest every inbox file of the given sources (all when None), one transaction per file.

    Files of a source are read and archived one by one, validated in batches (up to
    ``validation_batch_rows`` rows: one validation run serves many files) and then each file is
    loaded or quarantined on its own findings. Include ``None`` in ``sources`` to take the files
    whose source cannot be recognised (they are archived and quarantined with the reason)."""
    wanted = set(sources) if sources is not None else None
    result = InboxResult()
    files = inbox_files(settings.inbox_dir)
    if not files:
        return result
    con = connect(settings.warehouse)
    try:
        ensure_raw_schema(con)
        batch: list[tuple[CanonicalTable, str, Path]] = []
        for path in files:
            source = detect(path)
            if wanted is not None and source not in wanted:
                continue  # another source's file (None in ``sources`` takes files of unknown source)
            try:
                table = canonicalise(path)
            except UnreadableFile as e:
                sha, _ = archive_file(path, settings.archive_dir)
                _quarantine(settings, checks, path, sha, [Finding(path.name, None, None, None, "readable_file", "error",
                                                          e.problem, "re-export the file as CSV or .xlsx")])
                result.quarantined.append((path.name, e.problem))
                progress(f"quarantined {path.name}: {e.problem}")
                continue
            if wanted is not None and table.source.name not in wanted:
                continue
            try:  # data protection: rows about erased pupils go before the file is archived
                table = redact_incoming(settings, con, table, progress)
            except RewriteFailed as e:
                result.quarantined.append((path.name, f"holds rows about an erased pupil that could not be removed "
                                                      f"automatically ({e}); it stays in the inbox, unarchived"))
                continue
            sha, archived = archive_file(path, settings.archive_dir)
            if batch and (batch[0][0].source.name != table.source.name or
                          sum(t.frame.height for t, _, _ in batch) + table.frame.height > settings.validation_batch_rows):
                _validate_and_load(settings, con, batch, checks, result, progress)
                batch = []
            batch.append((table, sha, archived))
        if batch:
            _validate_and_load(settings, con, batch, checks, result, progress)
    finally:
        con.close()
    return result


def _validate_and_load(settings: Settings, con, batch: list[tuple[CanonicalTable, str, Path]],
                       checks: IntakeChecks, result: InboxResult, progress: Callable[[str], None]) -> None:
    tables = [t for t, _, _ in batch]
    progress(f"validating {len(tables)} {tables[0].source.label} file(s), {sum(t.frame.height for t in tables):,} rows")
    all_findings = checks.validate(tables, con) if checks.validate else [list(t.findings) for t in tables]
    for (table, sha, archived), findings in zip(batch, all_findings):
        path = table.path
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            _quarantine(settings, checks, path, sha, findings, table)
            first = errors[0]
            result.quarantined.append((path.name, f"{len(errors)} error(s); first: row {first.row}, "
                                                  f"column {first.column}: "
                                                  f"{message_for_log(first.column, first.value, first.message)}"))
            progress(f"quarantined {path.name}: {len(errors)} error(s)")
            continue
        loaded = load_upload(con, table, sha, archived, settings.key, original_name=path.name)
        (result.loaded if loaded.status == "loaded" else result.duplicates).append(loaded)
        path.unlink()  # safe: the archive holds it, and raw.uploads records where
        warnings = [f for f in findings if f.severity == "warning"]
        if warnings:  # loaded, but a data lead should look: they reach the run's log and metadata
            result.warned.append((path.name, warnings))
        progress(f"{loaded.status} {path.name}: {loaded.rows:,} rows into raw.{loaded.source}"
                 + (f" (superseding {loaded.superseded_rows:,} rows)" if loaded.superseded_rows else "")
                 + (f"; {loaded.erased_rows_refused:,} rows about erased pupils refused" if loaded.erased_rows_refused else "")
                 + (f"; {len(warnings)} warning(s), first: {warnings[0].message} "
                    f"({value_for_log(warnings[0].column, warnings[0].value)})" if warnings else ""))


def _quarantine(settings: Settings, checks: IntakeChecks, path: Path, sha: str, findings: list[Finding],
                table: CanonicalTable | None = None) -> Path:
    """Move the upload aside with its report (text, JSON, HTML); the archive keeps a copy too."""
    folder = settings.quarantine_dir / sha[:16]
    folder.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), folder / path.name)
    reports = checks.reports(path.name, table.source.label if table else "unrecognised",
                             table.raw.frame.height if table else 0, findings)
    for name, text in reports.items():
        (folder / name).write_text(text)
    return folder
