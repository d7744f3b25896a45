"""What validation needs from the warehouse: known schools, who is on the census, and each
school's row count in its last upload (for the cross-file warnings)."""

from __future__ import annotations

import duckdb

from expectations.runner import ValidationContext
from ingest.canonical import CanonicalTable


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = 'raw' AND table_name = ?",
                            [table]).fetchall())


def context_for(table: CanonicalTable, con: duckdb.DuckDBPyConnection | None, key: bytes | None) -> ValidationContext:
    ctx = ValidationContext(key=key)
    if con is None:
        return ctx
    if _has(con, "schools"):
        known = [r[0] for r in con.execute("SELECT DISTINCT laestab FROM raw.schools").fetchall()]
        ctx.known_laestabs = known or None
    source = table.source.name
    f = table.frame
    if source == "pupil_premium" and _has(con, "census") and "academic_year" in f.columns:
        years = [int(y) for y in f["academic_year"].drop_nulls().unique()]
        for y in years:
            keys = {r[0] for r in con.execute("SELECT DISTINCT pupil_key FROM raw.census WHERE academic_year = ?", [y]).fetchall()}
            if keys:
                ctx.census_pupil_keys[y] = keys
    if source in ("census", "attendance") and _has(con, source):
        # pupils per school in the most recent earlier upload that covered each school
        ctx.previous_rows_by_school = dict(con.execute(f"""
            WITH per_upload AS (
                SELECT laestab, upload_id, max(loaded_at) AS loaded_at, count(DISTINCT pupil_key) AS n
                FROM raw.{source} GROUP BY laestab, upload_id)
            SELECT laestab, arg_max(n, loaded_at) FROM per_upload GROUP BY laestab""").fetchall())
    return ctx


def validate_upload(table: CanonicalTable, con: duckdb.DuckDBPyConnection | None, key: bytes | None):
    from expectations.runner import validate_table

    return validate_table(table, context_for(table, con, key))
