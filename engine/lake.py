"""The raw layer as Parquet, one file per upload, for an engine that cannot open the DuckDB file (Spark).

The DuckDB warehouse stays the record of what was loaded: each upload in one transaction, holds,
supersession, erasure and retention all happen there (ingest/warehouse.py), so their rules stay in
one place. Before the Spark engine builds, ``sync`` makes the lake equal to the live raw rows:

* each upload's live rows of each raw table are one Parquet file, ``<lake>/raw/<table>/<upload_id>-<state>.parquet``,
  the lineage columns (upload_id, source_file, sha256, row_number, loaded_at) in every row;
* a file is written once, under a hidden name then renamed, and never changed: an upload whose live
  rows changed since (superseded in part by a later upload, an erased pupil removed, purged) gets a new
  file (its state differs) and the old one is removed; an upload with no live rows left has no file;
* a table with no uploads has one empty file, so the engine knows its columns.

A refresh that adds one upload writes one file; nothing is rewritten unless its rows changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from config.settings import Settings
from ingest.warehouse import RAW_TABLES

EMPTY = "empty"  # the file name of a table's zero-row schema file (no upload id is this)


@dataclass
class SyncResult:
    written: dict[str, int] = field(default_factory=dict)   # files written per table
    removed: dict[str, int] = field(default_factory=dict)   # files removed per table
    files: int = 0                                           # files in the lake afterwards

    def summary(self) -> str:
        return (f"raw lake: {sum(self.written.values())} file(s) written, {sum(self.removed.values())} removed, "
                f"{self.files} in all")


def raw_dir(settings: Settings) -> Path:
    return settings.lake / "raw"


def sync(settings: Settings) -> SyncResult:
    """Make ``<lake>/raw`` hold exactly the warehouse's live raw rows, one Parquet file per upload and table."""
    result = SyncResult()
    root = raw_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        present = {t for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'").fetchall()}
        for table in RAW_TABLES:
            folder = root / table
            folder.mkdir(exist_ok=True)
            if table not in present:
                continue
            _sync_table(con, table, folder, result)
    result.files = sum(1 for _ in root.glob("*/*.parquet"))
    return result


def _sync_table(con: duckdb.DuckDBPyConnection, table: str, folder: Path, result: SyncResult) -> None:
    columns = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'raw' "
                          "AND table_name = ? ORDER BY ordinal_position", [table]).fetchall()
    schema = hashlib.sha256(repr(columns).encode()).hexdigest()[:8]
    # rows are inserted and deleted; an erasure also renumbers an upload's rows and gives them the
    # rewritten file's sha256: count, row numbers and sha256 together say what is live
    states = {upload: f"{schema}{hashlib.sha256(f'{n}:{x}'.encode()).hexdigest()[:12]}"
              for upload, n, x in con.execute(
                  f"SELECT upload_id, count(*), sum(hash(row_number::VARCHAR || '/' || sha256)) FROM raw.{table} GROUP BY upload_id"
              ).fetchall()}
    wanted = {f"{u}-{s}" for u, s in states.items()} | {f"{EMPTY}-{schema}"}
    have: dict[str, list[Path]] = {}
    for p in folder.glob("*.parquet"):
        have.setdefault("-".join(p.stem.split("-")[:2]), []).append(p)
    stale = [p for name, paths in have.items() if name not in wanted for p in paths]
    missing = sorted(u for u, s in states.items() if f"{u}-{s}" not in have)
    if missing or f"{EMPTY}-{schema}" not in have:
        tmp = folder / f".writing-{uuid.uuid4().hex}"
        try:
            tmp.mkdir()
            empty = tmp / "empty.parquet"
            con.execute(f"COPY (SELECT * FROM raw.{table} LIMIT 0) TO '{empty}' (FORMAT parquet)")
            os.replace(empty, folder / f"{EMPTY}-{schema}.parquet")
            if missing:
                parts = tmp / "parts"
                con.register("lake_missing", pa.table({"upload_id": missing}))
                try:
                    con.execute(f"COPY (SELECT * FROM raw.{table} WHERE upload_id IN (SELECT upload_id FROM lake_missing)) "
                                f"TO '{parts}' (FORMAT parquet, PARTITION_BY (upload_id), WRITE_PARTITION_COLUMNS true)")
                finally:
                    con.unregister("lake_missing")
                for part in sorted(parts.iterdir()):
                    upload = part.name.split("=", 1)[1]
                    for i, f in enumerate(sorted(part.glob("*.parquet"))):
                        os.replace(f, folder / f"{upload}-{states[upload]}-{i}.parquet")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    for p in stale:
        p.unlink(missing_ok=True)
    result.written[table] = len(missing)
    result.removed[table] = len(stale)
