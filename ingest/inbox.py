"""The inbox flow: take each complete file, detect its source, validate, archive, then load,
hold or quarantine it. Every file meets its own fate; none can stop the others.

A file is taken only once it is complete: unchanged for ``inbox_settle_seconds`` (its inode's
change time, which any write, resize or change of modification time moves) and open for writing
by no process (Linux: found through ``/proc/*/fd``). Names starting with ``.``, ``_`` or ``~$``,
and unfinished downloads (``.partial``, ``.part``, ``.crdownload``, ``.tmp``), are left alone, and
``scan_inbox`` says why.

Order matters and never changes: a file is archived (immutable copy) before anything else
happens to it, so an upload is never lost; it is loaded in one transaction or not at all;
an invalid file is moved to ``quarantine/<upload-id>/`` with its report beside it and
nothing from it reaches the raw tables. Whatever goes wrong with one file - it cannot be read,
a rule crashes on it, its load fails - quarantines that file alone with the reason; a load that
would remove too much is held (``held/<upload-id>/``) until confirmed. Only trouble that is no
file's fault (the disk is full, the warehouse is locked by another program, the key is wrong)
stops the intake, leaving the files still to do in the inbox.
"""

from __future__ import annotations

import errno
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import duckdb

from config.settings import Settings
from ingest import ledger
from ingest.archive import archive_file
from ingest.canonical import CanonicalTable, Finding, canonicalise, peek_source, restrict_to_authority
from ingest.erasure import redact_incoming
from ingest.file_redaction import RewriteFailed
from ingest.findings import (
    FILE_UNREADABLE_BY_PATHWAYS,
    LOAD_FAILED,
    RULE_CRASHED,
    SOURCE_UNKNOWN,
    file_finding,
)
from ingest.held import HeldUpload, held_uploads, hold, release, stored_name, upload_folder
from ingest.identifiers import message_for_log, value_for_log
from ingest.keys import warehouse_key
from ingest.lock import refresh_lock
from ingest.pupil_records import any_erased
from ingest.readers import UnreadableFile
from ingest.warehouse import LoadLimits, LoadResult, connect, ensure_raw_schema, load_upload

IGNORED_PREFIXES = {
    "~$": "an Office lock file (its name starts with '~$'): Excel or Word has the real file open",
    ".": "a hidden file (its name starts with '.')",
    "_": "its name starts with '_', which keeps a file out of the intake",
}
UNFINISHED_SUFFIXES = (".partial", ".part", ".crdownload", ".download", ".tmp", ".filepart", ".!sync")


# ---------------------------------------------------------------------------------------------
# what is in the inbox, and which files are complete

@dataclass
class InboxFile:
    path: Path
    name: str          # path relative to the inbox
    state: str         # ready | arriving | ignored
    reason: str
    size: int = 0
    changed_at: float = 0.0


def _ignored_because(rel: Path) -> str | None:
    for i, part in enumerate(rel.parts):
        for prefix, why in IGNORED_PREFIXES.items():
            if part.startswith(prefix):
                if i == len(rel.parts) - 1:
                    return why
                return f"it is inside the folder '{part}', and {why.replace('its name', 'whose name')}"
    if rel.name.lower().endswith(UNFINISHED_SUFFIXES):
        return f"an unfinished download or copy ('{rel.suffix}'); it is taken once renamed to .csv or .xlsx"
    return None


def files_open_for_writing(folder: Path) -> dict[str, tuple[int, str]]:
    """Files under ``folder`` some process has open for writing: path -> (pid, program). Linux only
    (``/proc``); processes of other users are visible only to root, so elsewhere this finds fewer."""
    out: dict[str, tuple[int, str]] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return out
    prefix = str(folder.resolve()) + os.sep
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if not target.startswith(prefix):
                    continue
                with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                    flags = int(f.read().split("flags:", 1)[1].split()[0], 8)
            except (OSError, IndexError, ValueError):
                continue
            if flags & os.O_ACCMODE in (os.O_WRONLY, os.O_RDWR):
                try:
                    program = Path(f"/proc/{pid}/comm").read_text().strip()
                except OSError:
                    program = "?"
                out[target] = (int(pid), program)
    return out


def scan_inbox(settings: Settings, now: float | None = None) -> list[InboxFile]:
    """Every file under the inbox with its state: ready to take, still arriving, or ignored (and why)."""
    inbox = settings.inbox_dir
    if not inbox.exists():
        return []
    now = time.time() if now is None else now
    writers = files_open_for_writing(inbox)
    out: list[InboxFile] = []
    for dirpath, dirnames, filenames in os.walk(inbox):
        dirnames.sort()
        for fn in sorted(filenames):
            path = Path(dirpath) / fn
            rel = path.relative_to(inbox)
            why = _ignored_because(rel)
            try:
                st = path.stat()
            except OSError:
                out.append(InboxFile(path, str(rel), "ignored", "a broken link, or a file that vanished while the inbox was read"))
                continue
            if why:
                out.append(InboxFile(path, str(rel), "ignored", why, st.st_size, st.st_ctime))
                continue
            writer = writers.get(str(path.resolve()))
            age = now - st.st_ctime  # ctime moves with every write, resize or change of modification time
            if writer:
                state, reason = "arriving", f"still being written: {writer[1]} (pid {writer[0]}) has it open for writing"
            elif age < settings.inbox_settle_seconds:
                state, reason = "arriving", (f"still arriving: changed {max(age, 0):.0f} s ago; taken once unchanged for "
                                             f"{settings.inbox_settle_seconds:g} s")
            else:
                state, reason = "ready", "waiting for the next refresh"
            out.append(InboxFile(path, str(rel), state, reason, st.st_size, st.st_ctime))
    return out


_WAITED_FOR: dict[Path, float] = {}  # file -> when this process last waited for it to settle


def settled_inbox(settings: Settings, progress: Callable[[str], None] = lambda m: None) -> list[InboxFile]:
    """The inbox scan, after waiting (at most one settle interval) for files that are only young:
    a refresh started just after a copy still takes the copied files. A file still changing after
    that is left for the next refresh (each source's step does not wait for it again)."""
    scan = scan_inbox(settings)
    now = time.time()
    young = [f for f in scan if f.state == "arriving" and f.reason.startswith("still arriving")
             and now - _WAITED_FOR.get(f.path, 0) > 2 * settings.inbox_settle_seconds + 1]
    if not young:
        return scan
    for f in young:
        _WAITED_FOR[f.path] = now
    wait = max(0.0, min(settings.inbox_settle_seconds,
                        max(f.changed_at for f in young) + settings.inbox_settle_seconds - time.time()))
    progress(f"waiting {wait:.0f} s for {len(young)} file(s) still arriving in the inbox")
    time.sleep(wait + 0.05)
    return scan_inbox(settings)


def inbox_files(inbox_or_settings) -> list[Path]:
    """Files a refresh would take now (kept for callers that want paths only)."""
    if isinstance(inbox_or_settings, Settings):
        return [f.path for f in scan_inbox(inbox_or_settings) if f.state == "ready"]
    inbox = Path(inbox_or_settings)
    return sorted(p for p in inbox.rglob("*") if p.is_file() and not _ignored_because(p.relative_to(inbox)))


def detect(path: Path) -> str | None:
    """The source a file holds, from its headers (None when unreadable or unknown; never raises)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _detect(path, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=4096)
def _detect(path: Path, size: int, mtime_ns: int) -> str | None:
    # cached by size and time: each source's asset scans the inbox, and an Excel file's headers
    # cost a read of the whole sheet
    try:
        source = peek_source(path)
    except Exception:  # noqa: BLE001 - whatever the file does, it is "unrecognised" here and quarantined with the reason
        return None
    return source.name if source else None


# ---------------------------------------------------------------------------------------------
# what the layer above supplies: the rules and the reports

# validate(tables of one source, open warehouse connection, key) -> findings for each table, in order;
# the warehouse gives cross-file context
Validator = Callable[[list[CanonicalTable], object, bytes], list[list[Finding]]]
# reports(file name, source label, rows read, findings) -> {file name in the quarantine folder: text}
Reporter = Callable[[str, str, int, list[Finding]], dict[str, str]]


@dataclass
class IntakeChecks:
    """What the inbox flow needs from the layer above it (expectations/): the rules that judge a
    batch of uploads, and the reports a quarantined or held upload gets. Passed in, so ingest/ stays
    files in -> raw tables."""

    reports: Reporter
    validate: Validator | None = None


@dataclass
class Fate:
    """What became of one file."""

    file: str
    fate: str                      # loaded | duplicate | quarantined | held
    source: str | None
    upload_id: str | None
    reason: str
    rules: list[str] = field(default_factory=list)
    rows: int = 0
    where: str | None = None       # the quarantine or held folder


@dataclass
class InboxResult:
    loaded: list[LoadResult] = field(default_factory=list)
    duplicates: list[LoadResult] = field(default_factory=list)
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    warned: list[tuple[str, list[Finding]]] = field(default_factory=list)  # loaded files' warnings
    held: list[Fate] = field(default_factory=list)
    fates: list[Fate] = field(default_factory=list)
    arriving: list[InboxFile] = field(default_factory=list)  # left in the inbox: not complete yet

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.loaded)


class IntakeStopped(Exception):
    """Trouble no file caused (disk full, warehouse locked, wrong key): the files still to do stay in the inbox."""


def _environmental(e: BaseException) -> bool:
    """Trouble with the machine, not with the file in hand."""
    if isinstance(e, MemoryError):
        return True
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EMFILE, errno.ENFILE):
        return True
    return isinstance(e, duckdb.IOException | duckdb.ConnectionException | duckdb.OutOfMemoryException)


@dataclass
class _Upload:
    path: Path
    source: str | None
    held: HeldUpload | None = None   # a confirmed held upload (loaded without the limits)


def process_inbox(settings: Settings, checks: IntakeChecks, sources: Iterable[str] | None = None,
                  progress: Callable[[str], None] = lambda m: None) -> InboxResult:
    """Ingest every complete inbox file of the given sources (all when None), one transaction per file,
    and the held uploads of those sources that have been confirmed.

    Files of a source are read and archived one by one, validated in batches (up to
    ``validation_batch_rows`` rows: one validation run serves many files) and then each file is
    loaded, held or quarantined on its own findings. Include ``None`` in ``sources`` to take the
    files whose source cannot be recognised (they are archived and quarantined with the reason)."""
    wanted = set(sources) if sources is not None else None
    result = InboxResult()
    with refresh_lock(settings, trigger="ingest"):
        scan = settled_inbox(settings, progress)
        uploads = [_Upload(h.path, h.source, h) for h in held_uploads(settings) if h.confirmed]
        uploads += [_Upload(f.path, detect(f.path)) for f in scan if f.state == "ready"]
        uploads = [u for u in uploads if wanted is None or u.source in wanted]
        result.arriving = [f for f in scan if f.state == "arriving"]
        if not uploads:
            return result
        try:
            con = connect(settings.warehouse)
        except duckdb.Error as e:
            raise IntakeStopped(f"cannot open the warehouse {settings.warehouse}: {e}") from e
        try:
            ensure_raw_schema(con)
            key = warehouse_key(settings, con)
            intake = _Intake(settings, checks, con, key, result, progress)
            for upload in uploads:
                intake.take(upload)
            intake.flush()
        except Exception as e:
            if _environmental(e):
                raise IntakeStopped(f"the intake stopped: {type(e).__name__}: {e}. Files not yet taken stay in the "
                                    "inbox and are taken by the next refresh") from e
            raise
        finally:
            con.close()
    return result


class _Intake:
    """One pass over the inbox: batches of one source, validated together, each file judged alone."""

    def __init__(self, settings: Settings, checks: IntakeChecks, con, key: bytes, result: InboxResult,
                 progress: Callable[[str], None]):
        self.settings, self.checks, self.con, self.key = settings, checks, con, key
        self.result, self.progress = result, progress
        self.limits = LoadLimits(settings.reference_removal_limit, settings.school_term_shrink_limit)
        self.batch: list[tuple[CanonicalTable, str, Path, _Upload]] = []

    # -- one file --------------------------------------------------------------------------
    def take(self, upload: _Upload) -> None:
        path = upload.path
        if not upload.held:
            try:  # data protection: an erased pupil's rows leave the file before it is archived
                self._without_erased_pupils(upload)
            except RewriteFailed as e:
                self.result.quarantined.append((path.name, f"holds rows about an erased pupil that could not be removed "
                                                           f"automatically ({e}); it stays in the inbox, unarchived"))
                return
        try:
            sha, archived = archive_file(path, self.settings.archive_dir)
        except PermissionError as e:
            self._quarantine(upload, None, [file_finding(
                path.name, FILE_UNREADABLE_BY_PATHWAYS, f"Pathways may not read the file ({e.strerror})",
                "give the user that runs Pathways permission to read it, then put it in the inbox again")], "unreadable")
            return
        try:
            table = canonicalise(path, upload.source) if upload.source else canonicalise(path)
            if upload.source is None:  # the header line named no source, whatever the whole file says
                raise UnreadableFile(path, "cannot tell which source this is from its header line", SOURCE_UNKNOWN)
            table = restrict_to_authority(table, self.settings.la_code)  # a GIAS extract lists all of England
        except UnreadableFile as e:
            self._quarantine(upload, sha, e.findings, upload.source or "unrecognised")
            return
        except Exception as e:
            if _environmental(e):
                raise
            self._quarantine(upload, sha, [_crash(path.name, RULE_CRASHED, "reading the file", e)],
                             upload.source or "unrecognised")
            return
        if self.batch and (self.batch[0][0].source.name != table.source.name or
                           sum(t.frame.height for t, *_ in self.batch) + table.frame.height
                           > self.settings.validation_batch_rows):
            self.flush()
        self.batch.append((table, sha, archived, upload))

    def _without_erased_pupils(self, upload: _Upload) -> None:
        """Rewrite an inbox file without its rows about erased pupils (ingest/erasure.py); only
        read when the warehouse has erased anyone. A file that cannot be read is left as it is:
        it is quarantined below, and erasure covers the quarantine too."""
        if not any_erased(self.con):
            return
        try:
            table = canonicalise(upload.path, upload.source) if upload.source else canonicalise(upload.path)
        except Exception:  # noqa: BLE001 - unreadable files meet their fate in take()
            return
        redact_incoming(self.settings, self.con, table, self.progress)

    # -- a batch -----------------------------------------------------------------------------
    def flush(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        tables = [t for t, *_ in batch]
        self.progress(f"validating {len(tables)} {tables[0].source.label} file(s), {sum(t.frame.height for t in tables):,} rows")
        for (table, sha, archived, upload), findings in zip(batch, self._validate(tables)):
            self._judge(table, sha, archived, upload, findings)

    def _validate(self, tables: list[CanonicalTable]) -> list[list[Finding]]:
        if not self.checks.validate:
            return [list(t.findings) for t in tables]
        try:
            return self.checks.validate(tables, self.con, self.key)
        except Exception as e:
            if _environmental(e):
                raise
            if len(tables) > 1:  # find the file the rules could not run on: each on its own
                return [self._validate([t])[0] for t in tables]
            return [list(tables[0].findings) + [_crash(tables[0].path.name, RULE_CRASHED, "checking the file", e)]]

    def _judge(self, table: CanonicalTable, sha: str, archived: Path, upload: _Upload, findings: list[Finding]) -> None:
        path = upload.path
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            self._quarantine(upload, sha, findings, table.source.label, table)
            return
        try:
            loaded = load_upload(self.con, table, sha, archived, self.key, original_name=_name(upload),
                                 limits=None if upload.held else self.limits)
        except Exception as e:
            if _environmental(e):
                raise
            self._quarantine(upload, sha, findings + [_crash(path.name, LOAD_FAILED, "loading the file", e)],
                             table.source.label, table)
            return
        if loaded.status == "held":
            self._hold(upload, sha, table, loaded, findings)
            return
        (self.result.loaded if loaded.status == "loaded" else self.result.duplicates).append(loaded)
        if upload.held:
            release(upload.held)
        else:
            path.unlink()  # safe: the archive holds it, and raw.uploads records where
        warnings = [f for f in findings if f.severity == "warning"]
        if warnings:  # loaded, but a data lead should look: they reach the run's log and metadata
            self.result.warned.append((path.name, warnings))
        fate = Fate(_name(upload), loaded.status, table.source.label, loaded.upload_id,
                    f"{loaded.rows:,} rows into raw.{loaded.source}"
                    + (f", superseding {loaded.superseded_rows:,}" if loaded.superseded_rows else "")
                    + (" (confirmed)" if upload.held else "") + (f"; {len(warnings)} warning(s)" if warnings else ""),
                    sorted({f.rule for f in warnings}), loaded.rows)
        self._record(fate)
        self.progress(f"{loaded.status} {fate.file}: {loaded.rows:,} rows into raw.{loaded.source}"
                      + (f" (superseding {loaded.superseded_rows:,} rows)" if loaded.superseded_rows else "")
                      + (f"; {len(warnings)} warning(s), first: "
                         f"{message_for_log(warnings[0].column, warnings[0].value, warnings[0].message)} "
                         f"({value_for_log(warnings[0].column, warnings[0].value)})" if warnings else ""))

    # -- fates -------------------------------------------------------------------------------
    def _quarantine(self, upload: _Upload, sha: str | None, findings: list[Finding], label: str,
                    table: CanonicalTable | None = None) -> None:
        path = upload.path
        name = _name(upload)
        if sha is None:  # could not even be read: named by what the inbox knows of it
            import hashlib

            st = path.stat()
            sha = hashlib.sha256(f"{name}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()
        folder = upload_folder(self.settings.quarantine_dir, sha[:16], name)
        reports = self.checks.reports(name, label, table.raw.frame.height if table else 0, findings)
        for report, text in reports.items():
            (folder / report).write_text(text)
        target = folder / stored_name(name, set(reports))
        if path.resolve() != target.resolve():
            shutil.move(str(path), target)
        if upload.held:
            release(upload.held)
        errors = [f for f in findings if f.severity == "error"] or findings
        first = errors[0]
        where = (f"row {first.row}, column {first.column}: " if first.row is not None and first.column else
                 f"row {first.row}: " if first.row is not None else "")
        message = message_for_log(first.column, first.value, first.message)  # no pupil identifier in run logs
        reason = (f"{first.rule}: {where}{message}" if len(errors) == 1 else
                  f"{len(errors)} error(s); first: {first.rule}: {where}{message}")
        self.result.quarantined.append((name, reason))
        self._record(Fate(name, "quarantined", label, sha[:16], reason, sorted({f.rule for f in errors}),
                          table.raw.frame.height if table else 0, str(folder)))
        self.progress(f"quarantined {name}: {reason} (report: {folder / 'report.txt'})")

    def _hold(self, upload: _Upload, sha: str, table: CanonicalTable, loaded: LoadResult, findings: list[Finding]) -> None:
        h = loaded.hold
        name = _name(upload)
        notes = [file_finding(name, h.rule, h.message,
                              f"if this is what you intend, run: pathways confirm {sha[:16]} (then refresh); otherwise "
                              "send the complete file", column=_removal_column(r, table), value=_removal_value(r),
                              detail=_removal_detail(r), severity="hold") for r in h.removals]
        reports = self.checks.reports(name, table.source.label, table.raw.frame.height, notes + findings)
        held = hold(self.settings, upload.path, sha, table.source.name, h.rule, h.message, reports)
        fate = Fate(name, "held", table.source.label, sha[:16], h.message, [h.rule], table.raw.frame.height, str(held.folder))
        self.result.held.append(fate)
        self._record(fate)
        self.progress(f"held {name} for confirmation: {h.message} (pathways confirm {sha[:16]})")

    def _record(self, fate: Fate) -> None:
        self.result.fates.append(fate)
        ledger.record(self.settings, file=fate.file, fate=fate.fate, source=fate.source, upload_id=fate.upload_id,
                      reason=fate.reason, rules=fate.rules, rows=fate.rows, where=fate.where)


def _name(upload: _Upload) -> str:
    return upload.held.file if upload.held else upload.path.name


def _crash(file: str, rule: str, doing: str, e: BaseException) -> Finding:
    text = str(e).strip().splitlines()
    return file_finding(file, rule, f"Pathways failed while {doing}: {type(e).__name__}: {text[0] if text else ''}",
                        "nothing from this file was loaded; send the report to the Pathways maintainers (the other "
                        "files were processed as usual)")


def _removal_column(r: dict, table: CanonicalTable) -> str:
    for key in ("urn", "learning_community_code", "laestab"):
        if key in r:
            return table.columns.get(key, key)
    return ""


def _removal_value(r: dict) -> str:
    for key in ("urn", "learning_community_code", "laestab"):
        if key in r:
            return str(r[key])
    return ""


def _removal_detail(r: dict) -> str:
    if "rows_before" in r:
        when = ", ".join(str(r[k]) for k in ("academic_year", "stage", "term") if r.get(k) is not None)
        return f"{when}: {r['rows_before']:,} rows now, {r['rows_after']:,} in this file"
    name = r.get("school_name") or r.get("learning_community_name")
    return f"would be removed: {name}" if name else "would be removed"
