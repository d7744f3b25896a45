"""The raw layer of the working warehouse: tables, lineage, and loading one upload atomically.

Each upload is loaded in one transaction: all of its rows or none. Loading the same content
twice adds nothing (unless a later upload superseded it: then sending it again restores it). A
later upload covering the same (academic year, term, school) - and stage, for attainment -
supersedes the earlier rows of exactly those school-terms, and the supersession is recorded.
A reference file (schools, learning communities) replaces its whole table.

A load may only remove what a data lead would expect: one that would remove more than a set
share of the schools or communities already loaded, or cut a school-term's rows by more than a
set share (``LoadLimits``), changes nothing and comes back ``held`` with what it would remove,
until it is confirmed. Sending again a file loaded before (and superseded since) restores it
without a hold: it is a state the warehouse has already held in full.
Pupils are pseudonymised here: the UPN becomes ``pupil_key``, a keyed hash, and who the file
says the pupil is (date of birth, name) becomes two keyed hashes for the identity check.
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

IDENTITY = "identity_dob_hash BIGINT, identity_name_hash BIGINT"  # docs/methodology.md#identity-check
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
    "school_links": """urn INTEGER, link_urn INTEGER, link_name VARCHAR, link_type VARCHAR, link_established_date DATE""",
    "community_membership": """urn INTEGER, laestab INTEGER, learning_community_code VARCHAR""",
    # Ofsted's inspection outcomes, one row per judgement of each inspection (ingest/ofsted.py)
    "ofsted_inspections": """urn INTEGER, laestab INTEGER, inspection_number VARCHAR, inspection_type VARCHAR,
        inspection_start_date DATE, publication_date DATE, framework VARCHAR, judgement VARCHAR, grade VARCHAR,
        grade_date DATE""",
    # the census exclusions module: one row per suspension or permanent exclusion (ingest/exclusions.py)
    "exclusions": """academic_year INTEGER, term VARCHAR, census_date DATE, laestab INTEGER, pupil_key VARCHAR,
        age_months_at_31_august INTEGER, exclusion_category VARCHAR, exclusion_reason VARCHAR,
        exclusion_reason_2 VARCHAR, exclusion_reason_3 VARCHAR, exclusion_start_date DATE, exclusion_sessions INTEGER""",
    # the authority's monthly post-16 activity tracking (ingest/nccis.py)
    "post16_activity": """academic_year INTEGER, snapshot_date DATE, pupil_key VARCHAR, age_months_at_31_august INTEGER,
        activity_code INTEGER, activity_start_date DATE, send_status VARCHAR, y11_laestab INTEGER""",
    # funded early education (ingest/early_years.py): the home postcode is kept as its sector only
    "early_years_census": """academic_year INTEGER, census_date DATE, setting_urn INTEGER, pupil_key VARCHAR,
        age_months_at_31_august INTEGER, age_at_31_december INTEGER, postcode_sector VARCHAR, funded_hours DOUBLE,
        extended_hours DOUBLE, hours_at_setting DOUBLE, two_year_old_basis VARCHAR, eypp BOOLEAN, sen_provision VARCHAR""",
    "eligible_two_year_olds": """academic_year INTEGER, list_date DATE, pupil_key VARCHAR, age_months_at_31_august INTEGER,
        age_at_31_december INTEGER, postcode_sector VARCHAR, eligibility_basis VARCHAR""",
    "home_areas": """postcode_sector VARCHAR, learning_community_code VARCHAR""",
    "population_estimates": """postcode_sector VARCHAR, mid_year INTEGER, age_at_mid_year INTEGER, population DOUBLE""",
}
# what makes two uploads cover the same ground (a later one supersedes the earlier rows)
PUPIL_TABLES = ("census", "attendance", "attainment", "pupil_premium")
SUPERSESSION_KEYS = {
    "census": ("academic_year", "term", "laestab"),
    "attendance": ("academic_year", "term", "laestab"),
    "attainment": ("academic_year", "stage", "laestab"),
    "pupil_premium": ("academic_year", "laestab"),
    "schools": (),               # reference data: a new upload replaces the whole table
    "learning_communities": (),
    "school_links": (),
    "community_membership": (),
    # an inspection is the school's report of that date: monthly files build the history, and a later
    # file's version of an inspection (a report-card area regraded on monitoring) replaces the earlier
    "ofsted_inspections": ("urn", "publication_date"),
    # each census return carries earlier terms' exclusions again (one and two terms in arrears): the later
    # return of a school's term replaces the earlier, so each exclusion counts once
    "exclusions": ("academic_year", "term", "laestab"),
    # each month's snapshot is the authority's whole cohort: a later file of the same month replaces it
    "post16_activity": ("snapshot_date",),
    # the authority sends the whole January early years census at once: a later file of the year replaces it
    "early_years_census": ("academic_year",),
    # each list is the whole list of that date: a list sent again replaces it
    "eligible_two_year_olds": ("list_date",),
    "home_areas": (),            # reference data: a new upload replaces the whole table
    "population_estimates": (),  # reference data: a new upload replaces the whole table
}
# what a reference table's rows are (removing one is removing a school or a community)
REFERENCE_KEYS = {"schools": "urn", "learning_communities": "learning_community_code"}


@dataclass(frozen=True)
class LoadLimits:
    """How much one load may remove before it is held for confirmation (shares of what is there)."""

    reference_removal: float = 0.10
    school_term_shrink: float = 0.25


@dataclass
class Hold:
    """Why a load was held, and what it would have removed."""

    rule: str                   # reference_removal | school_term_shrink
    message: str
    removals: list[dict]        # one per school, community or school-term it would remove or shrink


@dataclass
class LoadResult:
    upload_id: str
    source: str
    file: str
    status: str                 # loaded | duplicate | held
    rows: int
    superseded_rows: int = 0
    superseded_uploads: tuple[str, ...] = ()
    erased_rows_refused: int = 0    # rows about erased pupils not loaded (ingest/erasure.py)
    hold: Hold | None = None


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), read_only=read_only)


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for name, cols in RAW_TABLES.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS raw.{name} ({LINEAGE}, {cols}{', ' + IDENTITY if name in PUPIL_TABLES else ''})")
    # warehouses made before the identity check gain its columns (empty for the rows already there)
    have = {t for (t,) in con.execute("SELECT table_name FROM information_schema.columns WHERE table_schema = 'raw' "
                                      "AND column_name = 'identity_name_hash'").fetchall()}
    for name in set(PUPIL_TABLES) - have:
        for col in IDENTITY.split(","):
            con.execute(f"ALTER TABLE raw.{name} ADD COLUMN IF NOT EXISTS {col.strip()}")
    con.execute("""CREATE TABLE IF NOT EXISTS raw.uploads (
        upload_id VARCHAR PRIMARY KEY, source VARCHAR, stage VARCHAR, source_file VARCHAR, sha256 VARCHAR,
        archived_path VARCHAR, rows BIGINT, loaded_at TIMESTAMPTZ, academic_years VARCHAR, terms VARCHAR, schools INTEGER)""")
    con.execute("""CREATE TABLE IF NOT EXISTS raw.supersessions (
        superseded_upload_id VARCHAR, superseded_by_upload_id VARCHAR, source VARCHAR, rows_removed BIGINT,
        recorded_at TIMESTAMPTZ)""")


def load_upload(con: duckdb.DuckDBPyConnection, table: CanonicalTable, sha: str, archived_path: Path,
                key: bytes, original_name: str | None = None, limits: LoadLimits | None = None) -> LoadResult:
    """Load one validated upload in a single transaction. With ``limits``, a load that would remove
    more than they allow changes nothing and returns status ``held`` with what it would remove."""
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
        hashes = table.identity_hashes(key)
        if hashes is not None:
            hashes = hashes.rename({"dob_hash": "identity_dob_hash", "name_hash": "identity_name_hash"})
            frame = frame.join(hashes, on="row_number", how="left", maintain_order="left")
    # data protection: an erased pupil's rows are refused, whatever file brings them back
    frame, refused = without_erased(con, frame)
    if refused and frame.height == 0:
        return LoadResult(upload_id, source, name, "refused", 0, erased_rows_refused=refused)
    frame = frame.with_columns(upload_id=pl.lit(upload_id), source_file=pl.lit(name), sha256=pl.lit(sha),
                               loaded_at=pl.lit(now))
    extra = "," + IDENTITY if source in PUPIL_TABLES else ""
    wanted = [c.strip().split()[0] for c in (LINEAGE + "," + RAW_TABLES[source] + extra).split(",")]
    frame = frame.select([c for c in wanted if c in frame.columns])

    con.execute("BEGIN TRANSACTION")
    try:
        # a file loaded in full before and sent again restores a known state on purpose: not held
        restoring = bool(con.execute("SELECT 1 FROM raw.uploads WHERE upload_id = ?", [upload_id]).fetchall())
        covered = _covered(con, source, frame)
        hold = _over_limits(con, source, frame, covered, limits) if limits and not restoring else None
        if hold:
            con.execute("ROLLBACK")
            return LoadResult(upload_id, source, name, "held", frame.height, hold=hold)
        superseded, removed = _supersede(con, source, frame, covered, upload_id, now)
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


def _scope_match(con, source: str, frame: pl.DataFrame) -> str:
    """SQL matching the raw rows an upload covers (registers ``scope``; the caller unregisters it)."""
    keys = SUPERSESSION_KEYS[source]
    if not keys:
        return "TRUE"
    scope = frame.select(keys).unique()
    con.register("scope", scope.to_arrow())
    cond = " AND ".join(f"r.{k} IS NOT DISTINCT FROM s.{k}" for k in keys)
    # Constant bounds on the whole-number keys let DuckDB skip row groups by their min/max
    # without reading them: otherwise every upload scans the whole raw table, and loading
    # many files grows with the square of their number.
    bounds = [f"r.{k} BETWEEN {int(scope[k].min())} AND {int(scope[k].max())}" for k in keys
              if scope[k].dtype.is_integer() and scope[k].null_count() == 0 and scope.height]
    return " AND ".join([*bounds, f"EXISTS (SELECT 1 FROM scope s WHERE {cond})"])


def _covered(con, source: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The raw rows the upload covers, counted per earlier upload and school-term (one scan serves
    the limits and the supersession)."""
    keys = list(SUPERSESSION_KEYS[source])
    match = _scope_match(con, source, frame)
    try:
        return con.execute(f"SELECT upload_id, {''.join(k + ', ' for k in keys)}count(*) AS rows_before "
                           f"FROM raw.{source} r WHERE {match} GROUP BY ALL").pl()
    finally:
        if keys:
            con.unregister("scope")


def _over_limits(con, source: str, frame: pl.DataFrame, covered: pl.DataFrame, limits: LoadLimits) -> Hold | None:
    """What the load would remove beyond the limits (None when within them)."""
    if source in REFERENCE_KEYS:
        key = REFERENCE_KEYS[source]
        name = "school_name" if source == "schools" else "learning_community_name"
        before = con.execute(f"SELECT DISTINCT {key}, {name} FROM raw.{source} WHERE {key} IS NOT NULL").fetchall()
        incoming = set(frame[key].drop_nulls().to_list())
        gone = sorted((k, n) for k, n in before if k not in incoming)
        if before and len(gone) > limits.reference_removal * len(before):
            what = "schools" if source == "schools" else "learning communities"
            return Hold("reference_removal",
                        f"loading it would remove {len(gone)} of the {len(before)} {what} loaded now "
                        f"(more than {limits.reference_removal:.0%})",
                        [{key: k, name: n} for k, n in gone])
        return None
    keys = list(SUPERSESSION_KEYS[source])
    if covered.height == 0 or source not in PUPIL_TABLES:  # links, membership, inspections: nothing to hold
        return None
    before = covered.group_by(keys).agg(pl.col("rows_before").sum())
    after = frame.group_by(keys).agg(pl.len().alias("rows_after"))
    shrunk = (before.join(after, on=keys, how="left", nulls_equal=True)
              .with_columns(pl.col("rows_after").fill_null(0))
              .filter(pl.col("rows_after") < (1 - limits.school_term_shrink) * pl.col("rows_before"))
              .sort(keys))
    if shrunk.height == 0:
        return None
    where = "school-term" if "term" in keys else "school-year"
    return Hold("school_term_shrink",
                f"loading it would cut {shrunk.height} {where}(s) by more than {limits.school_term_shrink:.0%} of "
                f"their rows (e.g. LAESTAB {shrunk['laestab'][0]}: {shrunk['rows_before'][0]:,} rows now, "
                f"{shrunk['rows_after'][0]:,} in this file)",
                shrunk.to_dicts())


def _supersede(con, source: str, frame: pl.DataFrame, covered: pl.DataFrame, upload_id: str,
               now: datetime) -> tuple[list[str], int]:
    hits = covered.group_by("upload_id", maintain_order=True).agg(pl.col("rows_before").sum()).sort("upload_id").rows()
    removed = 0
    for old_id, n in hits:
        con.execute("INSERT INTO raw.supersessions VALUES (?, ?, ?, ?, ?)", [old_id, upload_id, source, n, now])
        removed += n
    if hits:
        keys = SUPERSESSION_KEYS[source]
        match = _scope_match(con, source, frame)
        try:
            con.execute(f"DELETE FROM raw.{source} r WHERE {match}")
        finally:
            if keys:
                con.unregister("scope")
    return [h[0] for h in hits], removed
