"""The raw lake (one Parquet file per upload, rewritten only when its live rows change) and the
one reader (the same names whichever engine built the marts)."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from engine.lake import sync
from engine.reader import open_reader
from ingest.warehouse import ensure_raw_schema
from tests.conftest import make_settings


def _warehouse(settings, uploads: dict[str, int]) -> None:
    with duckdb.connect(str(settings.warehouse)) as con:
        ensure_raw_schema(con)
        for upload, rows in uploads.items():
            con.execute(f"""INSERT INTO raw.learning_communities BY NAME
                SELECT '{upload}' AS upload_id, 'lc.csv' AS source_file, 'sha' AS sha256, i AS row_number,
                       now() AS loaded_at, 'LC' || i AS learning_community_code, 'Community ' || i AS learning_community_name
                FROM range(1, {rows} + 1) t(i)""")


def _files(settings, table="learning_communities") -> list[str]:
    return sorted(p.name for p in (settings.lake / "raw" / table).glob("*.parquet"))


def test_each_upload_is_one_file_written_once_and_replaced_when_its_rows_change(tmp_path):
    s = make_settings(tmp_path, engine="spark")
    s.data_dir.mkdir(parents=True)
    _warehouse(s, {"aaaa": 3, "bbbb": 2})
    first = sync(s)
    files = _files(s)
    assert first.written["learning_communities"] == 2
    assert [f.split("-")[0] for f in files] == ["aaaa", "bbbb", "empty"]
    # nothing changed: nothing written
    assert sum(sync(s).written.values()) == 0 and _files(s) == files
    # a row of one upload removed (superseded in part, or an erased pupil): that upload's file only is replaced
    with duckdb.connect(str(s.warehouse)) as con:
        con.execute("DELETE FROM raw.learning_communities WHERE upload_id = 'aaaa' AND row_number = 2")
        con.execute("DELETE FROM raw.learning_communities WHERE upload_id = 'bbbb'")
    again = sync(s)
    assert again.written["learning_communities"] == 1 and again.removed["learning_communities"] == 2
    after = _files(s)
    assert [f.split("-")[0] for f in after] == ["aaaa", "empty"] and after[0] != files[0]
    lake = pl.read_parquet([str(s.lake / "raw" / "learning_communities" / f) for f in after])
    assert sorted(lake["row_number"].to_list()) == [1, 3]
    assert {"upload_id", "source_file", "sha256", "row_number", "loaded_at"} <= set(lake.columns)  # lineage kept
    # an erasure rewrites the archived file: its rows get the new sha256 (and new row numbers); the lake follows
    with duckdb.connect(str(s.warehouse)) as con:
        con.execute("UPDATE raw.learning_communities SET sha256 = 'rewritten' WHERE upload_id = 'aaaa'")
    assert sync(s).written["learning_communities"] == 1
    rewritten = pl.read_parquet([str(s.lake / "raw" / "learning_communities" / f) for f in _files(s)])
    assert set(rewritten["sha256"]) == {"rewritten"}
    # every raw table has a file saying its columns, uploads or not
    assert _files(s, "census") and pl.read_parquet(s.lake / "raw" / "census" / _files(s, "census")[0]).height == 0


def test_the_reader_gives_the_same_names_on_either_engine(tmp_path):
    s = make_settings(tmp_path, engine="spark")
    s.data_dir.mkdir(parents=True)
    _warehouse(s, {"aaaa": 2})
    # a table as Spark leaves it: Parquet parts in <spark_dir>/warehouse/<schema>.db/<table>/
    folder = s.spark_home / "warehouse" / "marts.db" / "dim_learning_communities"
    folder.mkdir(parents=True)
    pl.DataFrame({"learning_community_code": ["LC1", "LC2"]}).write_parquet(folder / "part-00000.snappy.parquet")
    # a DuckDB build left in the file: on Spark it is never read, not even for a table Spark lacks
    with duckdb.connect(str(s.warehouse)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.dim_learning_communities AS SELECT 'LC9' AS learning_community_code")
        con.execute("CREATE TABLE marts.dim_schools AS SELECT 1 AS urn")
    with open_reader(s) as con:
        assert con.execute("SELECT count(*) FROM marts.dim_learning_communities").fetchone()[0] == 2
        assert con.execute("SELECT count(*) FROM raw.learning_communities").fetchone()[0] == 2
        with pytest.raises(duckdb.CatalogException):
            con.execute("SELECT * FROM marts.dim_schools")
        assert not con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = 'dim_schools' "
                               "AND table_catalog = current_database()").fetchall()
    with open_reader(make_settings(tmp_path)) as con:  # DuckDB: the file itself
        assert con.execute("SELECT count(*) FROM raw.learning_communities").fetchone()[0] == 2
        assert con.execute("SELECT learning_community_code FROM marts.dim_learning_communities").fetchall() == [("LC9",)]
