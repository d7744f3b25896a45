"""What validation needs from the warehouse: known schools, who is on the census, each school's
row count in its last upload, and who the warehouse says the batch's pupils are (for the
cross-file warnings)."""

from __future__ import annotations

import duckdb
import polars as pl

from expectations.reports import quarantine_reports
from expectations.runner import ValidationContext
from ingest.canonical import CanonicalTable, Finding
from ingest.inbox import IntakeChecks


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = 'raw' AND table_name = ?",
                            [table]).fetchall())


def context_for(tables: list[CanonicalTable], con: duckdb.DuckDBPyConnection | None, key: bytes | None) -> ValidationContext:
    """One context for a batch of uploads of one source (what they need, read once)."""
    ctx = ValidationContext(key=key)
    if con is None or not tables:
        return ctx
    if _has(con, "schools"):
        known = [r[0] for r in con.execute("SELECT DISTINCT laestab FROM raw.schools").fetchall()]
        ctx.known_laestabs = known or None
    sources = {t.source.name for t in tables}
    if "pupil_premium" in sources and _has(con, "census"):
        years = sorted({int(y) for t in tables if "academic_year" in t.frame.columns
                        for y in t.frame["academic_year"].drop_nulls().unique()})
        census = con.execute("SELECT DISTINCT academic_year, pupil_key FROM raw.census WHERE list_contains(?, academic_year)",
                             [years]).pl()
        ctx.census_pupils = census if census.height else None
    schools = sorted({int(s) for t in tables if "laestab" in t.frame.columns for s in t.frame["laestab"].drop_nulls().unique()})
    for source in sources & {"census", "attendance"}:
        if _has(con, source) and schools:
            # pupils per school in the most recent earlier upload that covered each school; only
            # this batch's schools (the bounds let DuckDB skip other schools' row groups unread)
            ctx.previous_rows_by_school = dict(con.execute(f"""
                WITH per_upload AS (
                    SELECT laestab, upload_id, max(loaded_at) AS loaded_at, count(DISTINCT pupil_key) AS n
                    FROM raw.{source}
                    WHERE laestab BETWEEN ? AND ? AND list_contains(?, laestab)
                    GROUP BY laestab, upload_id)
                SELECT laestab, arg_max(n, loaded_at) FROM per_upload GROUP BY laestab""",
                [schools[0], schools[-1], schools]).fetchall())
    if key is not None:
        from expectations.runner import batch_identities

        ctx.batch_identities = batch_identities(tables, key)
        ctx.identities = _identities(con, ctx.batch_identities)
    return ctx


def _identities(con: duckdb.DuckDBPyConnection, batch: pl.DataFrame):
    """The identity hashes the census holds for the batch's pupils (the census is where a school
    records who its pupils are), one row per pupil, school and identity, with a file and row that
    said so."""
    keys = batch.select("pupil_key").unique()
    present = [t for t in ("census",) if _has(con, t) and con.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = ? "
        "AND column_name = 'identity_dob_hash'", [t]).fetchall()]
    if keys.height == 0 or not present:
        return None
    con.register("batch_pupils", keys.to_arrow())
    try:
        union = " UNION ALL ".join(
            f"""SELECT r.pupil_key, r.laestab::BIGINT AS laestab, r.identity_dob_hash AS dob_hash,
                       r.identity_name_hash AS name_hash, r.source_file, r.row_number
                FROM raw.{t} r SEMI JOIN batch_pupils b ON r.pupil_key = b.pupil_key
                WHERE r.identity_dob_hash IS NOT NULL OR r.identity_name_hash IS NOT NULL""" for t in present)
        return con.execute(f"""SELECT pupil_key, laestab, dob_hash, name_hash, min(source_file) AS source_file,
                                      min(row_number) AS row_number
                               FROM ({union}) GROUP BY ALL""").pl()
    finally:
        con.unregister("batch_pupils")


def validate_uploads(tables: list[CanonicalTable], con: duckdb.DuckDBPyConnection | None,
                     key: bytes | None) -> list[list[Finding]]:
    """Findings for each upload of a batch (one source), with the warehouse as context."""
    from expectations.runner import validate_tables

    return validate_tables(tables, context_for(tables, con, key))


def validate_upload(table: CanonicalTable, con: duckdb.DuckDBPyConnection | None, key: bytes | None) -> list[Finding]:
    return validate_uploads([table], con, key)[0]


def intake_checks(key: bytes | None = None, validate: bool = True) -> IntakeChecks:
    """The rules and reports the inbox flow (ingest.inbox) applies to each batch of uploads. The flow
    passes the warehouse's key with each batch; ``key`` is only a fallback for callers without one."""
    return IntakeChecks(reports=quarantine_reports,
                        validate=(lambda tables, con, k=None: validate_uploads(tables, con, k or key)) if validate else None)
