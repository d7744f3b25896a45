"""Retention: what is past its retention period, and deleting exactly that, all or nothing.

Each pupil-level source has a period in years (settings ``retention_<source>_years``; the
defaults and the reasons for them are in docs/data-protection.md#retention). The clock starts
when the academic year the rows describe ends (31 August): rows of academic year 2019/20 with a
two-year period are past it after 31 August 2022. What is past its period:

- **raw rows** of those academic years, in every pupil-level raw table;
- **archived uploads**: a file all of whose rows are past is deleted (with its upload record);
  a file with some rows past is rewritten without them (a new sha256; lineage follows);
- **pupil-level model rows**: the derived tables are emptied in the same transaction and the
  next dbt build refills them from what raw still holds (the command runs that refresh);
- **quarantined uploads** and uploads **held for confirmation** that nobody confirmed (file,
  reports and their archived copy) older than ``retention_quarantine_days``, archived files no upload or quarantine folder refers to
  (a run killed between archiving and loading) after the same time, and subject access exports
  older than ``retention_subject_access_days``.

Nothing else is deleted: reference data (schools, learning communities) holds no personal data,
publications hold aggregates only (kept as ``publications_kept`` says), and the warehouse keeps
a record of each purge (counts, upload ids; no pupil data), which the next publication's
manifest reports. A purge cannot half-happen (ingest/journal.py).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from config.settings import Settings
from ingest import journal, pupil_records
from ingest.archive import sha256_file
from ingest.file_redaction import renumbering, rewrite_without
from ingest.journal import Journal
from ingest.processing_log import current_user

SUBJECT_ACCESS_DIR = "subject_access"


def periods(settings: Settings, years: int | None = None) -> dict[str, int]:
    """Retention period in years per pupil-level source (``years`` overrides them all)."""
    configured = {"census": settings.retention_census_years, "attendance": settings.retention_attendance_years,
                  "attainment": settings.retention_attainment_years,
                  "pupil_premium": settings.retention_pupil_premium_years,
                  # the exclusions module is part of the school census: kept as long as the census
                  "exclusions": settings.retention_census_years,
                  "post16_activity": settings.retention_post16_years,
                  # funded early education records: kept as long as the census, whose pupils they become
                  "early_years_census": settings.retention_census_years,
                  "eligible_two_year_olds": settings.retention_census_years}
    return {s: (years if years is not None else n) for s, n in configured.items()}


def last_expired_year(period_years: int, as_of: date) -> int:
    """The latest academic year (by its starting calendar year, 2019 = 2019/20) whose rows are
    past a period of ``period_years`` on ``as_of``: the year ended on 31 August of the next
    calendar year and the period has run out since."""
    # academic year Y ends on 31 August of Y + 1; its rows are past on any day after 31 August of Y + 1 + period
    return as_of.year - 1 - period_years if as_of > date(as_of.year, 8, 31) else as_of.year - 2 - period_years


def year_label(y: int) -> str:
    return f"{y}/{(y + 1) % 100:02d}"


@dataclass
class UploadAction:
    upload_id: str
    source: str
    source_file: str
    archived: str               # the archived file
    years: list[int]
    action: str                 # delete | rewrite
    raw_rows: int = 0           # rows of this upload in raw past the period
    file_rows: list[int] = field(default_factory=list)  # rewrite: file rows past the period


@dataclass
class RetentionPlan:
    as_of: str
    periods: dict[str, int]
    last_expired: dict[str, int]                    # source -> latest academic year past its period
    raw_rows: dict[str, int]                        # source -> raw rows past the period
    rows_without_year: dict[str, int]               # source -> rows with no academic year (never expire; look at them)
    uploads: list[UploadAction] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)       # quarantine folders past their period
    held: list[str] = field(default_factory=list)              # held-for-confirmation folders past the same period
    orphan_files: list[str] = field(default_factory=list)      # archived files nothing refers to, past the period
    exports: list[str] = field(default_factory=list)           # subject access exports past their period
    derived: dict[str, int] = field(default_factory=dict)      # derived pupil-level tables to empty and rebuild
    problems: list[str] = field(default_factory=list)          # what could not be planned (kept; needs a person)
    quarantine_days: int = 0
    export_days: int = 0

    @property
    def empty(self) -> bool:
        return not (sum(self.raw_rows.values()) or self.uploads or self.quarantined or self.held or self.orphan_files or self.exports)

    def counts(self) -> dict:
        """The purge in numbers only (what a publication's manifest records)."""
        return {
            "as_of": self.as_of,
            "periods_years": self.periods,
            "academic_years_purged_up_to": {s: year_label(y) for s, y in self.last_expired.items()},
            "raw_rows_deleted": {s: n for s, n in self.raw_rows.items() if n},
            "archived_uploads_deleted": sum(u.action == "delete" for u in self.uploads),
            "archived_uploads_rewritten": sum(u.action == "rewrite" for u in self.uploads),
            "quarantined_uploads_deleted": len(self.quarantined),
            "held_uploads_deleted": len(self.held),
            "unreferenced_archive_files_deleted": len(self.orphan_files),
            "subject_access_exports_deleted": len(self.exports),
            "pupil_level_model_rows_cleared_for_rebuild": sum(self.derived.values()),
        }

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        lines = [f"Retention review as of {self.as_of} (the clock starts when the academic year ends, 31 August):"]
        lines.append(f"  {'source':<15} {'period':>7}  {'past its period':<26} {'raw rows':>10} {'files deleted':>14} "
                     f"{'files rewritten':>16}")
        for s, n in self.periods.items():
            ups = [u for u in self.uploads if u.source == s]
            lines.append(f"  {s:<15} {n:>5} y  {'academic years to ' + year_label(self.last_expired[s]):<26} "
                         f"{self.raw_rows.get(s, 0):>10,} {sum(u.action == 'delete' for u in ups):>14,} "
                         f"{sum(u.action == 'rewrite' for u in ups):>16,}")
        lines.append(f"  quarantined uploads older than {self.quarantine_days} days: {len(self.quarantined)}; uploads held "
                     f"for confirmation that long: {len(self.held)}; archived files "
                     f"nothing refers to: {len(self.orphan_files)}; subject access exports older than {self.export_days} "
                     f"days: {len(self.exports)}")
        if self.derived:
            lines.append(f"  pupil-level model rows emptied and rebuilt from what remains: {sum(self.derived.values()):,} "
                         f"in {len(self.derived)} tables")
        for s, n in self.rows_without_year.items():
            lines.append(f"  note: {n:,} {s} rows have no academic year and never expire; look at their uploads")
        for p in self.problems:
            lines.append(f"  kept (needs a person): {p}")
        if self.uploads:
            lines.append("  Uploads past their period:")
            for u in self.uploads[:40]:
                what = "delete" if u.action == "delete" else f"rewrite without {len(u.file_rows):,} rows"
                lines.append(f"    - {u.source_file} ({u.source}, {', '.join(year_label(y) for y in u.years)}): {what}")
            if len(self.uploads) > 40:
                lines.append(f"    ... and {len(self.uploads) - 40} more")
        if self.empty:
            lines.append("  Nothing is past its retention period.")
        return "\n".join(lines)


def make_plan(settings: Settings, con: duckdb.DuckDBPyConnection | None, as_of: date | None = None,
              years: int | None = None) -> RetentionPlan:
    """What is past its retention period on ``as_of`` (today by default). Reads only."""
    as_of = as_of or datetime.now(UTC).date()
    per = periods(settings, years)
    plan = RetentionPlan(as_of.isoformat(), per, {s: last_expired_year(n, as_of) for s, n in per.items()}, {}, {},
                         quarantine_days=settings.retention_quarantine_days, export_days=settings.retention_subject_access_days)
    referenced: set[str] = set()
    origin: dict[str, str] = {}  # a rewritten archived file's sha256 -> the sha256 of the upload as received
    if con is not None:
        if con.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = 'data_protection' "
                       "AND table_name = 'archive_rewrites'").fetchall():
            for old, new in con.execute("SELECT old_sha256, new_sha256 FROM data_protection.archive_rewrites "
                                        "WHERE new_sha256 IS NOT NULL ORDER BY rewritten_at").fetchall():
                origin[new] = origin.get(old, old)
        counts = pupil_records.rows_by_upload_and_year(con)
        for c in counts:
            if c.academic_year is None:
                plan.rows_without_year[c.source] = plan.rows_without_year.get(c.source, 0) + c.rows
            elif c.academic_year <= plan.last_expired[c.source]:
                plan.raw_rows[c.source] = plan.raw_rows.get(c.source, 0) + c.rows
        past_rows = {(c.upload_id, c.source): 0 for c in counts}
        for c in counts:
            if c.academic_year is not None and c.academic_year <= plan.last_expired[c.source]:
                past_rows[(c.upload_id, c.source)] += c.rows
        ups = pupil_records.uploads(con)
        for u in ups.iter_rows(named=True) if ups.height else []:
            archived = _archived(settings, u["archived_path"])
            referenced.add(archived.name)
            if u["source"] not in per:
                continue  # reference data: no personal data, no retention
            years_held = sorted(int(y) for y in (u["academic_years"] or "").split(",") if y.strip())
            if not years_held:
                if past_rows.get((u["upload_id"], u["source"])):
                    plan.problems.append(f"{u['source_file']}: its upload record names no academic year")
                continue
            cut = plan.last_expired[u["source"]]
            if max(years_held) <= cut:
                plan.uploads.append(UploadAction(u["upload_id"], u["source"], u["source_file"], str(archived), years_held,
                                                 "delete", past_rows.get((u["upload_id"], u["source"]), 0)))
            elif min(years_held) <= cut:
                action = UploadAction(u["upload_id"], u["source"], u["source_file"], str(archived), years_held, "rewrite",
                                      past_rows.get((u["upload_id"], u["source"]), 0))
                try:
                    action.file_rows = _file_rows_up_to(archived, cut)
                    if action.file_rows:  # (none left: an earlier purge rewrote it already)
                        plan.uploads.append(action)
                except Exception as e:  # an archived file that no longer reads: a person must look
                    plan.problems.append(f"{u['source_file']}: holds years past the period but cannot be read to "
                                         f"rewrite it ({e})")
        if plan.raw_rows:
            plan.derived = {t: n for t in pupil_records.derived_tables(con)
                            if (n := con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])}
    cutoff = time.time() - settings.retention_quarantine_days * 86400
    quarantined = set()
    if settings.quarantine_dir.exists():
        for folder in sorted(p for p in settings.quarantine_dir.iterdir() if p.is_dir()):
            quarantined.add(folder.name)
            if _newest_mtime(folder) < cutoff:
                plan.quarantined.append(str(folder))
    # an upload held for confirmation that nobody confirmed is kept no longer than a quarantined one
    if settings.held_dir.exists():
        for folder in sorted(p for p in settings.held_dir.iterdir() if p.is_dir()):
            quarantined.add(folder.name)
            if _newest_mtime(folder) < cutoff:
                plan.held.append(str(folder))
    expired_q = {Path(f).name for f in plan.quarantined + plan.held}
    if settings.archive_dir.exists():
        for f in sorted(settings.archive_dir.iterdir()):
            if not f.is_file() or f.name in referenced:
                continue
            stem = f.name.split(".")[0].lstrip(".")
            stem = origin.get(stem, stem)  # a quarantined upload's copy keeps its folder's clock after an erasure
            if stem[:16] in quarantined and stem[:16] not in expired_q:
                continue  # a quarantined upload's copy, still within its period
            if stem[:16] in expired_q or f.stat().st_mtime < cutoff:
                plan.orphan_files.append(str(f))
    exports = settings.data_dir / SUBJECT_ACCESS_DIR
    if exports.exists():
        e_cut = time.time() - settings.retention_subject_access_days * 86400
        plan.exports = [str(p) for p in sorted(exports.iterdir()) if _newest_mtime(p) < e_cut]
    return plan


def _archived(settings: Settings, recorded: str) -> Path:
    # the archive folder may have moved with the data folder since the path was recorded
    here = settings.archive_dir / Path(recorded).name
    return here if here.exists() or not Path(recorded).exists() else Path(recorded)


def _newest_mtime(p: Path) -> float:
    if p.is_file():
        return p.stat().st_mtime
    times = [q.stat().st_mtime for q in p.rglob("*") if q.is_file()]
    return max(times, default=p.stat().st_mtime)


def _file_rows_up_to(path: Path, last_year: int) -> list[int]:
    """File rows (as the reader numbers them) holding academic years up to ``last_year``."""
    from ingest.canonical import canonicalise

    frame = canonicalise(path).frame
    return sorted(frame.filter(pl.col("academic_year") <= last_year)["row_number"].unique().to_list())


@dataclass
class PurgeResult:
    operation_id: str | None
    plan: RetentionPlan
    recovered: list[str]
    seconds: float

    def describe(self) -> str:
        if self.operation_id is None:
            return "Nothing was past its retention period; nothing was deleted."
        c = self.plan.counts()
        return (f"Purge {self.operation_id} committed: {sum(c['raw_rows_deleted'].values()):,} raw rows, "
                f"{c['archived_uploads_deleted']} archived uploads deleted and {c['archived_uploads_rewritten']} rewritten, "
                f"{c['quarantined_uploads_deleted']} quarantined uploads, {c['unreferenced_archive_files_deleted']} "
                f"unreferenced archive files, {c['subject_access_exports_deleted']} subject access exports; "
                f"{c['pupil_level_model_rows_cleared_for_rebuild']:,} pupil-level model rows cleared, to be rebuilt "
                f"from what remains ({self.seconds:.1f} s).")


def purge(settings: Settings, as_of: date | None = None, years: int | None = None,
          progress: Callable[[str], None] = lambda m: None) -> PurgeResult:
    """Delete what is past its retention period, all or nothing (see ingest/journal.py).

    ``progress`` hears each step by name ("plan recorded", "transaction committed", ...)."""
    t0 = time.perf_counter()
    today = datetime.now(UTC).date()
    if as_of is not None and as_of > today:
        raise ValueError(f"as of {as_of} is in the future: a purge may not delete what is not yet due")
    con = pupil_records_connection(settings)
    try:  # the write connection is held until the files are done: no refresh or recovery runs meanwhile
        recovered = journal.recover(con, settings.data_dir, progress)
        plan = make_plan(settings, con, as_of, years)
        if plan.empty:
            return PurgeResult(None, plan, recovered, time.perf_counter() - t0)
        started = datetime.now(UTC)
        op = Journal(f"purge-{started.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}", "retention_purge")
        op.write(settings.data_dir)  # before any file is made: a kill from here on is recovered
        rewrites = []
        for u in plan.uploads:
            old = Path(u.archived)
            if not old.exists():
                plan.problems.append(f"{u.source_file}: archived file {old.name} was already missing")
                continue
            if u.action == "rewrite":
                try:
                    sha, mapping = rewrite_archived(settings, old, set(u.file_rows), op)
                except Exception:
                    journal.roll_back(op, settings.data_dir)
                    raise
                rewrites.append((u, sha, mapping))
                if old.name.split(".")[0] == sha:
                    continue  # the rewrite changed nothing: the file stays
            op.delete.append(str(old))
        op.delete += plan.quarantined + plan.held + plan.orphan_files + plan.exports
        op.write(settings.data_dir)
        progress("plan recorded")
        with journal.transaction(con, op, settings.data_dir, settings.warehouse, progress, applied="files deleted"):
            for source in pupil_records.pupil_sources(con):
                n = pupil_records.delete_years(con, source, plan.last_expired[source])
                progress(f"deleted {n:,} raw.{source} rows")
            if plan.derived:
                pupil_records.clear_derived(con)
                progress("emptied the pupil-level model tables")
            pupil_records.forget_uploads(con, [u.upload_id for u in plan.uploads if u.action == "delete"])
            for u, sha, mapping in rewrites:
                new = settings.archive_dir / f"{sha}{Path(u.archived).suffix.lower()}"
                kept_years = [y for y in u.years if y > plan.last_expired[u.source]]
                pupil_records.repoint_upload(con, u.upload_id, u.source, sha, str(new), mapping, u.raw_rows, kept_years)
            new_sha = {u.upload_id: sha for u, sha, _ in rewrites}
            for u in plan.uploads:
                con.execute("INSERT INTO data_protection.archive_rewrites VALUES (?, ?, ?, 'retention', ?, ?, now())",
                            [Path(u.archived).name.split(".")[0], new_sha.get(u.upload_id), u.upload_id, op.operation_id,
                             len(u.file_rows) if u.action == "rewrite" else None])
            summary = {**plan.counts(), "upload_ids": {u.upload_id: u.action for u in plan.uploads}}
            con.execute("INSERT INTO data_protection.operations VALUES (?, 'retention_purge', ?, NULL, ?, now(), ?)",
                        [op.operation_id, current_user(), started, json.dumps(summary)])
    finally:
        con.close()
    return PurgeResult(op.operation_id, plan, recovered, time.perf_counter() - t0)


def pupil_records_connection(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The warehouse's write connection, with the raw and data-protection schemas in place."""
    from ingest.warehouse import connect, ensure_raw_schema

    con = connect(settings.warehouse)
    journal.remove(journal.compaction_leftover(settings.warehouse))  # (holding the lock: no copy is under way)
    ensure_raw_schema(con)
    journal.ensure_schema(con)
    return con


def rewrite_archived(settings: Settings, old: Path, drop: set[int] | dict, op: Journal,
                     forbidden: list[str] = ()) -> tuple[str, list[tuple[int, int]]]:
    """Write an archived upload again without some rows (file rows of its loaded sheet, or a
    {sheet: rows} mapping) as a new read-only archived file named by its sha256, journalled
    before it appears. Returns the new sha256 and the kept rows' renumbering (old -> new)."""
    rows = drop if isinstance(drop, dict) else {None: drop}
    tmp = settings.archive_dir / f".{old.name}.rewrite.partial{old.suffix}"  # (the suffix tells the reader the format)
    try:
        rewrite_without(old, tmp, rows, forbidden)
        mapping = renumbering(old, tmp, rows.get(None, set()) | rows.get(_first_sheet(old), set()))
    except Exception:
        if tmp.exists():
            tmp.unlink()
        raise
    sha = sha256_file(tmp)
    new = settings.archive_dir / f"{sha}{old.suffix.lower()}"
    if new.exists():  # the same content is archived already (not ours to remove on a roll-back)
        tmp.unlink()
        return sha, mapping
    op.created.append(str(new))
    op.write(settings.data_dir)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.chmod(tmp, 0o444)
    os.replace(tmp, new)
    return sha, mapping


def _first_sheet(path: Path) -> str | None:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import fastexcel

        return fastexcel.read_excel(str(path)).sheet_names[0]
    return None


def purges_since(con: duckdb.DuckDBPyConnection, since: str | None) -> list[dict]:
    """Purges committed after ``since`` (an ISO time; all when None), counts only."""
    if not con.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = 'data_protection' "
                       "AND table_name = 'operations'").fetchall():
        return []
    rows = con.execute("SELECT operation_id, committed_at, summary FROM data_protection.operations "
                       "WHERE kind = 'retention_purge' AND (? IS NULL OR committed_at > ?::TIMESTAMPTZ) ORDER BY committed_at",
                       [since, since]).fetchall()
    out = []
    for op_id, at, summary in rows:
        counts = {k: v for k, v in json.loads(summary).items() if k != "upload_ids"}
        out.append({"operation_id": op_id, "committed_at": str(at), **counts})
    return out


def publication_record(con: duckdb.DuckDBPyConnection, settings: Settings, previous: dict | None) -> dict:
    """What a publication's manifest says about retention and erasure (counts only): the periods
    in force, the purges since the previous publication (all purges for the first), and how
    many pupils have been erased to date."""
    erased = 0
    if con.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = 'data_protection' "
                   "AND table_name = 'erased_pupils'").fetchall():
        erased = con.execute("SELECT count(*) FROM data_protection.erased_pupils").fetchone()[0]
    return {
        "retention_periods_years": periods(settings),
        "purges_since_previous_publication": purges_since(con, previous.get("created_at") if previous else None),
        "pupils_erased_to_date": erased,
    }
