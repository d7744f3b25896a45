"""Parity: the small borough refreshed on Spark (PATHWAYS_ENGINE=spark: a local session, the raw
uploads read from the Parquet lake) gives the same marts and the same publication as on DuckDB
(the session's ``refreshed``). Counts and text exactly; rates and averages to the published rounding.

One Spark refresh for the whole module (one Spark session, about 2-3 minutes on 2 cores)."""

from __future__ import annotations

import time

import duckdb
import polars as pl
import pytest

from engine.parity import compare, read_marts
from engine.reader import open_reader
from tests.conftest import copy_into_inbox, make_settings


@pytest.fixture(scope="module")
def spark_refreshed(small_borough_dir, refreshed, tmp_path_factory):
    from pathways.cli import run_refresh

    settings = make_settings(tmp_path_factory.mktemp("spark_pipeline"), engine="spark")
    settings.inbox_dir.mkdir(parents=True)
    copy_into_inbox(sorted(small_borough_dir.iterdir()), settings)
    t0 = time.perf_counter()
    assert run_refresh(settings)
    print(f"\nSpark refresh of the small borough: {time.perf_counter() - t0:.0f} s")
    return settings


def _mart_names(settings) -> list[str]:
    with open_reader(settings) as con:
        return sorted(r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' "
            "AND table_catalog = current_database()").fetchall())


def test_every_mart_is_the_same_on_both_engines(refreshed, spark_refreshed):
    names = _mart_names(refreshed)
    assert len(names) >= 10 and _mart_names(spark_refreshed) == names
    with open_reader(refreshed) as con:
        duck = read_marts(con, names)
    with open_reader(spark_refreshed) as con:
        spark = read_marts(con, names)
    assert sum(t.height for t in duck.values()) > 1000
    assert compare(duck, spark) == []
    # the reader really read Spark's own files, not a DuckDB build of the marts
    folders = list((spark_refreshed.spark_home / "warehouse" / "marts.db").iterdir())
    assert {f.name for f in folders} >= set(names)
    with duckdb.connect(str(spark_refreshed.warehouse), read_only=True) as con:
        assert not con.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = 'marts'").fetchall()


def test_the_publication_is_the_same_on_both_engines(refreshed, spark_refreshed):
    duck_pub, spark_pub = refreshed.current_publication, spark_refreshed.current_publication
    tables = []
    for pub in (duck_pub, spark_pub):
        with duckdb.connect(str(pub), read_only=True) as con:
            names = sorted(r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall())
            tables.append({n: con.sql(f"SELECT * FROM {n}").pl() for n in names})
    assert len(tables[0]) >= 10 and tables[0].keys() == tables[1].keys()
    # the same published figures and the same cells withheld, in whatever order each engine gave the rows
    assert compare(*tables) == []
    for name, frame in tables[0].items():
        assert frame.schema == tables[1][name].schema, name
    # the open data files (rows, their order, the metadata's filter defaults), byte for byte
    csvs = [{p.name: p.read_bytes() for p in sorted((pub.parent / "open_data").glob("*.csv"))}
            for pub in (duck_pub.resolve(), spark_pub.resolve())]
    assert len(csvs[0]) >= 10 and csvs[0] == csvs[1]


def test_spark_reads_raw_uploads_from_one_parquet_file_per_upload(spark_refreshed):
    with duckdb.connect(str(spark_refreshed.warehouse), read_only=True) as con:
        live = dict(con.execute("SELECT upload_id, count(*) FROM raw.census GROUP BY upload_id").fetchall())
    files = sorted((spark_refreshed.lake / "raw" / "census").glob("*.parquet"))
    lake = pl.read_parquet([str(f) for f in files])
    # every live row is there once, with its lineage, and nothing else
    assert dict(lake.group_by("upload_id").len().rows()) == live
    assert {f.name.split("-")[0] for f in files} == set(live) | {"empty"}
    assert lake.select("upload_id", "row_number").is_unique().all()
