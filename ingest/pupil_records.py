"""Where the warehouse holds rows about pupils, and the only code that finds, counts or deletes them.

Retention, subject access and erasure go through these functions and nothing else touches
the raw tables for them, so moving raw storage elsewhere (Parquet files, another engine)
means rewriting this module only. Two kinds of table hold pupil-level rows:

- the **raw tables** with a ``pupil_key`` (``PUPIL_SOURCES``): one row per pupil per upload
  row, with lineage (upload_id, source_file, sha256, row_number, loaded_at);
- **derived tables**: every other table in the warehouse with a ``pupil_key`` column - the
  dbt intermediate models (rebuilt from raw on every refresh) and any table of failing rows
  dbt's ``--store-failures`` left behind. Views (staging) hold nothing of their own.

The marts are aggregates (no ``pupil_key``), and the reference tables (schools, learning
communities) hold no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from ingest.journal import ensure_schema
from ingest.sources import PUPIL_SOURCES

NOT_DERIVED = ("raw", "data_protection")  # schemas whose tables are handled explicitly


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                            [schema, table]).fetchall())


def pupil_sources(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [s for s in PUPIL_SOURCES if _exists(con, "raw", s)]


# --- finding one pupil ------------------------------------------------------------------------

def raw_rows(con: duckdb.DuckDBPyConnection, pupil_keys: list[str]) -> dict[str, pl.DataFrame]:
    """Every raw row about these pupils, per raw table (lineage columns included)."""
    return {s: con.execute(f"SELECT * FROM raw.{s} WHERE list_contains(?, pupil_key) ORDER BY loaded_at, upload_id, row_number",
                           [pupil_keys]).pl() for s in pupil_sources(con)}


def derived_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """``schema.table`` of every derived table holding pupil-level rows (tables, not views)."""
    rows = con.execute("""
        SELECT c.table_schema, c.table_name FROM information_schema.columns c
        JOIN information_schema.tables t USING (table_catalog, table_schema, table_name)
        WHERE c.column_name = 'pupil_key' AND t.table_type = 'BASE TABLE'
          AND c.table_catalog = current_database() AND NOT list_contains(?, c.table_schema)
        ORDER BY 1, 2""", [list(NOT_DERIVED)]).fetchall()
    return [f"{s}.{t}" for s, t in rows]


def derived_rows(con: duckdb.DuckDBPyConnection, pupil_keys: list[str]) -> dict[str, pl.DataFrame]:
    out = {}
    for name in derived_tables(con):
        frame = con.execute(f"SELECT * FROM {name} WHERE list_contains(?, pupil_key)", [pupil_keys]).pl()
        if frame.height:
            out[name] = frame
    return out


def uploads(con: duckdb.DuckDBPyConnection, upload_ids: list[str] | None = None) -> pl.DataFrame:
    """The upload records (all, or these), with whether each is still live (not superseded)."""
    if not _exists(con, "raw", "uploads"):
        return pl.DataFrame()
    where = "WHERE list_contains(?, u.upload_id)" if upload_ids is not None else ""
    return con.execute(f"""
        SELECT u.*, NOT EXISTS (SELECT 1 FROM raw.supersessions s
                                WHERE s.superseded_upload_id = u.upload_id AND s.recorded_at >= u.loaded_at) AS live
        FROM raw.uploads u {where} ORDER BY u.loaded_at, u.source_file""", [upload_ids] if upload_ids is not None else []).pl()


# --- erasure ----------------------------------------------------------------------------------

def delete_pupils(con: duckdb.DuckDBPyConnection, pupil_keys: list[str]) -> dict[str, int]:
    """Delete every row about these pupils from the raw and derived tables (inside the caller's
    transaction). Returns rows deleted per table."""
    counts = {}
    for name in [f"raw.{s}" for s in pupil_sources(con)] + derived_tables(con):
        n = con.execute(f"DELETE FROM {name} WHERE list_contains(?, pupil_key)", [pupil_keys]).fetchone()[0]
        if n:
            counts[name] = n
    return counts


def rows_per_upload(con: duckdb.DuckDBPyConnection, pupil_keys: list[str]) -> dict[str, int]:
    """Raw rows about these pupils per upload id."""
    out: dict[str, int] = {}
    for s in pupil_sources(con):
        for upload_id, n in con.execute(f"SELECT upload_id, count(*) FROM raw.{s} WHERE list_contains(?, pupil_key) GROUP BY 1",
                                        [pupil_keys]).fetchall():
            out[upload_id] = out.get(upload_id, 0) + n
    return out


def repoint_upload(con: duckdb.DuckDBPyConnection, upload_id: str, source: str, sha256: str, archived_path: str,
                   renumbered: list[tuple[int, int]], rows_removed: int, academic_years: list[int] | None = None) -> None:
    """After an archived upload is rewritten without some rows: its raw rows and record point at
    the new file (sha256) and at the rows' new places in it (row_number old -> new); with
    ``academic_years``, the years it still holds (after a retention rewrite)."""
    con.execute(f"UPDATE raw.{source} SET sha256 = ? WHERE upload_id = ?", [sha256, upload_id])
    moved = [(old, new) for old, new in renumbered if old != new]
    if moved:
        con.register("renumbered", pl.DataFrame(moved, schema={"old": pl.Int64, "new": pl.Int64}, orient="row").to_arrow())
        con.execute(f"""UPDATE raw.{source} r SET row_number = m.new FROM renumbered m
                        WHERE r.upload_id = ? AND r.row_number = m.old""", [upload_id])
        con.unregister("renumbered")
    con.execute("UPDATE raw.uploads SET sha256 = ?, archived_path = ?, rows = greatest(rows - ?, 0) WHERE upload_id = ?",
                [sha256, archived_path, rows_removed, upload_id])
    if academic_years is not None:
        con.execute("UPDATE raw.uploads SET academic_years = ? WHERE upload_id = ?",
                    [",".join(map(str, academic_years)), upload_id])


# --- tombstones: erased pupils stay out ---------------------------------------------------------

def erased(con: duckdb.DuckDBPyConnection, pupil_keys: list[str] | None = None) -> set[str]:
    """Keyed hashes of the erased pupils (all, or those among ``pupil_keys``)."""
    if not _exists(con, "data_protection", "erased_pupils"):
        return set()
    if pupil_keys is None:
        return {k for (k,) in con.execute("SELECT pupil_key FROM data_protection.erased_pupils").fetchall()}
    return {k for (k,) in con.execute("SELECT pupil_key FROM data_protection.erased_pupils WHERE list_contains(?, pupil_key)",
                                      [pupil_keys]).fetchall()}


def any_erased(con: duckdb.DuckDBPyConnection) -> bool:
    return _exists(con, "data_protection", "erased_pupils") and bool(
        con.execute("SELECT 1 FROM data_protection.erased_pupils LIMIT 1").fetchall())


def without_erased(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """``frame`` (with a pupil_key column) less the rows of erased pupils, and how many went."""
    if "pupil_key" not in frame.columns or not any_erased(con):
        return frame, 0
    gone = erased(con, frame["pupil_key"].drop_nulls().unique().to_list())
    if not gone:
        return frame, 0
    kept = frame.filter(~pl.col("pupil_key").is_in(list(gone)))
    return kept, frame.height - kept.height


def add_tombstones(con: duckdb.DuckDBPyConnection, pupil_keys: list[str], operation_id: str) -> None:
    ensure_schema(con)
    for k in pupil_keys:
        con.execute("INSERT INTO data_protection.erased_pupils VALUES (?, ?, now()) ON CONFLICT DO NOTHING", [k, operation_id])


# --- retention ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class YearCount:
    source: str
    upload_id: str
    academic_year: int | None
    rows: int


def rows_by_upload_and_year(con: duckdb.DuckDBPyConnection) -> list[YearCount]:
    """Raw pupil rows per source, upload and academic year (what a retention plan counts)."""
    out = []
    for s in pupil_sources(con):
        for upload_id, year, n in con.execute(
                f"SELECT upload_id, academic_year, count(*) FROM raw.{s} GROUP BY ALL ORDER BY 1, 2").fetchall():
            out.append(YearCount(s, upload_id, year, n))
    return out


def delete_years(con: duckdb.DuckDBPyConnection, source: str, up_to_year: int) -> int:
    """Delete a source's raw rows of academic years up to and including ``up_to_year``."""
    return con.execute(f"DELETE FROM raw.{source} WHERE academic_year <= ?", [up_to_year]).fetchone()[0]


def clear_derived(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Empty every derived pupil-level table (the next dbt build refills them from what raw holds)."""
    counts = {}
    for name in derived_tables(con):
        counts[name] = con.execute(f"DELETE FROM {name}").fetchone()[0]
    return counts


def forget_uploads(con: duckdb.DuckDBPyConnection, upload_ids: list[str]) -> int:
    """Remove the records of uploads whose every row is gone (the purge record keeps their ids)."""
    if not upload_ids:
        return 0
    return con.execute("DELETE FROM raw.uploads WHERE list_contains(?, upload_id)", [upload_ids]).fetchone()[0]
