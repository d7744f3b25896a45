"""The raw layer of the working warehouse: tables, lineage, and loading one upload atomically.

Each upload is loaded in one transaction: all of its rows or none. Loading the same content
twice adds nothing (unless a later upload superseded it: then sending it again restores it). A
later upload covering the same (academic year, term, school) - and stage, for attainment -
supersedes the earlier rows, and the supersession is recorded.
Pupils are pseudonymised here: the UPN becomes ``pupil_key``, a keyed hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from ingest.canonical import CanonicalTable
from ingest.identifiers import pseudonymise
from ingest.pupil_records import without_erased

LINEAGE = """
    upload_id VARCHAR NOT NULL, source_file VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
    row_number BIGINT NOT NULL, loaded_at TIMESTAMPTZ NOT NULL"""

RAW_TABLES = {
    "census": """academic_year INTEGER, term VARCHAR, census_date DATE, laestab INTEGER, pupil_key VARCHAR,
        age_months_at_31_august INTEGER, sex VARCHAR, ethnicity VARCHAR, first_language VARCHAR, nc_year VARCHAR,
        enrol_status VARCHAR, entry_date DATE, fsm_eligible BOOLEAN, sen_provision VARCHAR, sen_primary_need VARCHAR""",
    "attendance": """academic_year INTEGER, term VARCHAR, laestab INTEGER, pupil_key VARCHAR, age_months_at_31_august INTEGER,
        possible_sessions INTEGER, authorised_absence_sessions INTEGER, unauthorised_absence_sessions INTEGER""",
    "attainment": """academic_year INTEGER, stage VARCHAR, laestab INTEGER, pupil_key VARCHAR, age_months_at_31_august INTEGER,
        nc_year VARCHAR, subject VARCHAR, result VARCHAR, subject_name VARCHAR, ebacc_pillar VARCHAR""",
    "pupil_premium": """academic_year INTEGER, laestab INTEGER, pupil_key VARCHAR, ever6_fsm BOOLEAN, looked_after BOOLEAN,
        previously_looked_after BOOLEAN, service_child BOOLEAN""",
    "schools": """urn INTEGER, laestab INTEGER, school_name VARCHAR, phase VARCHAR, establishment_type VARCHAR,
        learning_community_code VARCHAR, collaborative VARCHAR, open_date DATE, close_date DATE, predecessor_urn INTEGER""",
    "learning_communities": """learning_community_code VARCHAR, learning_community_name VARCHAR, collaborative VARCHAR""",
}
# what makes two uploads cover the same ground (a later one supersedes the earlier rows)
SUPERSESSION_KEYS = {
    "census": ("academic_year", "term", "laestab"),
    "attendance": ("academic_year", "term", "laestab"),
    "attainment": ("academic_year", "stage", "laestab"),
    "pupil_premium": ("academic_year", "laestab"),
    "schools": (),               # reference data: a new upload replaces the whole table
    "learning_communities": (),
}


@dataclass
class LoadResult:
    upload_id: str
    source: str
    file: str
    status: str                 # loaded | duplicate
    rows: int
    superseded_rows: int = 0
    superseded_uploads: tuple[str, ...] = ()
    erased_rows_refused: int = 0    # rows about erased pupils not loaded (ingest/erasure.py)


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), read_only=read_only)


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for name, cols in RAW_TABLES.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS raw.{name} ({LINEAGE}, {cols})")
    con.execute("""CREATE TABLE IF NOT EXISTS raw.uploads (
        upload_id VARCHAR PRIMARY KEY, source VARCHAR, stage VARCHAR, source_file VARCHAR, sha256 VARCHAR,
        archived_path VARCHAR, rows BIGINT, loaded_at TIMESTAMPTZ, academic_years VARCHAR, terms VARCHAR, schools INTEGER)""")
    con.execute("""CREATE TABLE IF NOT EXISTS raw.supersessions (
        superseded_upload_id VARCHAR, superseded_by_upload_id VARCHAR, source VARCHAR, rows_removed BIGINT,
        recorded_at TIMESTAMPTZ)""")


def load_upload(con: duckdb.DuckDBPyConnection, table: CanonicalTable, sha: str, archived_path: Path,
                key: bytes, original_name: str | None = None) -> LoadResult:
    """Load one validated upload in a single transaction."""
    source = table.source.name
    upload_id = sha[:16]
    name = original_name or table.path.name
    ensure_raw_schema(con)
    if _is_live(con, upload_id):
        return LoadResult(upload_id, source, name, "duplicate", 0)

    now = datetime.now(UTC)
    frame = table.frame
    if "upn" in frame.columns:
        frame = frame.with_columns(pupil_key=pseudonymise(frame["upn"], key)).drop("upn")
    # data protection: an erased pupil's rows are refused, whatever file brings them back
    frame, refused = without_erased(con, frame)
    if refused and frame.height == 0:
        return LoadResult(upload_id, source, name, "refused", 0, erased_rows_refused=refused)
    frame = frame.with_columns(upload_id=pl.lit(upload_id), source_file=pl.lit(name), sha256=pl.lit(sha),
                               loaded_at=pl.lit(now))
    wanted = [c.strip().split()[0] for c in (LINEAGE + "," + RAW_TABLES[source]).split(",")]
    frame = frame.select([c for c in wanted if c in frame.columns])

    con.execute("BEGIN TRANSACTION")
    try:
        superseded, removed = _supersede(con, source, frame, upload_id, now)
        con.register("incoming", frame.to_arrow())
        con.execute(f"INSERT INTO raw.{source} BY NAME SELECT * FROM incoming")
        con.unregister("incoming")
        years = sorted({int(y) for y in frame["academic_year"].drop_nulls().unique()}) if "academic_year" in frame.columns else []
        terms = sorted(frame["term"].drop_nulls().unique().to_list()) if "term" in frame.columns else []
        n_schools = frame["laestab"].n_unique() if "laestab" in frame.columns else 0
        # an upload superseded earlier and sent again is live again (a data lead restoring it)
        con.execute("DELETE FROM raw.uploads WHERE upload_id = ?", [upload_id])
        con.execute("INSERT INTO raw.uploads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [upload_id, source, table.source.stage, name, sha, str(archived_path), frame.height, now,
                     ",".join(map(str, years)), ",".join(terms), n_schools])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return LoadResult(upload_id, source, name, "loaded", frame.height, removed, tuple(superseded), refused)


def _is_live(con, upload_id: str) -> bool:
    """Loaded before and not superseded since: sending it again adds nothing."""
    return bool(con.execute("""
        SELECT 1 FROM raw.uploads u
        WHERE u.upload_id = ?
          AND NOT EXISTS (SELECT 1 FROM raw.supersessions s
                          WHERE s.superseded_upload_id = u.upload_id AND s.recorded_at >= u.loaded_at)""",
                            [upload_id]).fetchall())


def _supersede(con, source: str, frame: pl.DataFrame, upload_id: str, now: datetime) -> tuple[list[str], int]:
    keys = SUPERSESSION_KEYS[source]
    if keys:
        scope = frame.select(keys).unique()
        con.register("scope", scope.to_arrow())
        cond = " AND ".join(f"r.{k} IS NOT DISTINCT FROM s.{k}" for k in keys)
        # Constant bounds on the whole-number keys let DuckDB skip row groups by their min/max
        # without reading them: otherwise every upload scans the whole raw table, and loading
        # many files grows with the square of their number.
        bounds = [f"r.{k} BETWEEN {int(scope[k].min())} AND {int(scope[k].max())}" for k in keys
                  if scope[k].dtype.is_integer() and scope[k].null_count() == 0]
        match = " AND ".join([*bounds, f"EXISTS (SELECT 1 FROM scope s WHERE {cond})"])
    else:
        match = "TRUE"
    hits = con.execute(f"SELECT upload_id, count(*) FROM raw.{source} r WHERE {match} GROUP BY 1").fetchall()
    removed = 0
    for old_id, n in hits:
        con.execute("INSERT INTO raw.supersessions VALUES (?, ?, ?, ?, ?)", [old_id, upload_id, source, n, now])
        removed += n
    if hits:
        con.execute(f"DELETE FROM raw.{source} r WHERE {match}")
    if keys:
        con.unregister("scope")
    return [h[0] for h in hits], removed
