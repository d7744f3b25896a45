"""Per learning community extracts: its own rows plus its authority's and national benchmarks,
nothing of another community's (nor another authority's, where the warehouse holds several),
as a DuckDB file (every table) and a workbook (the tables people read)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import polars as pl

from config.labels import LOCAL_AUTHORITY


def write_extracts(building: Path, tables: dict[str, pl.DataFrame], communities: pl.DataFrame,
                   about: dict | None = None, by_measure: dict[str, set[str]] | None = None) -> dict[str, list[str]]:
    """Per learning community: its own rows plus its authority's and national benchmarks, nothing
    of another community's (nor another authority's, where the warehouse holds several).
    ``by_measure``: per table, the figures shown to their row's measure's decimal places."""
    folder = building / "by_learning_community"
    folder.mkdir()
    # Split each table once by community, not one filter per community (England has thousands).
    # Rows keep the mart's order: authority benchmarks sit where the mart put them.
    own: dict[str, dict[str, pl.DataFrame]] = {}
    authority: dict[str, dict[str | None, pl.DataFrame]] = {}
    for name, frame in tables.items():
        if name in ("school_categories", "dim_schools", "dim_learning_communities") or "geographic_level" in frame.columns:
            indexed = frame.with_row_index("_order")
            by_lc = indexed.filter(pl.col("learning_community_code").is_not_null())
            own[name] = {key[0]: part for key, part in by_lc.partition_by("learning_community_code", as_dict=True).items()}
            if "geographic_level" in frame.columns and name != "school_categories":
                rows = indexed.filter(pl.col("geographic_level") == LOCAL_AUTHORITY)
                authority[name] = {key[0]: part for key, part in rows.partition_by("old_la_code", as_dict=True).items()}
    jobs = []
    about = about or {}
    for lc, la, lc_name in communities.select("learning_community_code", "old_la_code", "learning_community_name").iter_rows():
        parts: dict[str, pl.DataFrame] = {}
        for name, frame in tables.items():
            if name in own:
                mine = own[name].get(lc, frame.clear().with_row_index("_order"))
                if name in authority and la in authority[name]:
                    mine = pl.concat([mine, authority[name][la]]).sort("_order")
                parts[name] = mine.drop("_order")
            else:
                parts[name] = frame
        jobs.append((folder, lc, parts, {**about, "lc_name": lc_name}, by_measure or {}))
    workers = min(os.cpu_count() or 1, len(jobs))
    if workers <= 1:
        return dict(_write_extract(*job) for job in jobs)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Writing is most of publishing (Excel through xlsxwriter is pure Python, and each DuckDB file
    # checkpoints on close), and the extracts are independent: one process per core writes them.
    # spawn, not fork: this process runs DuckDB and polars thread pools, which fork does not copy safely.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return dict(f.result() for f in [pool.submit(_write_extract, *job) for job in jobs])


def _write_extract(folder: Path, lc: str, parts: dict[str, pl.DataFrame], about: dict,
                   by_measure: dict[str, set[str]]) -> tuple[str, list[str]]:
    """One learning community's ``.duckdb`` (every table) and ``.xlsx`` (the tables people read)."""
    from publish.workbooks import write_workbook

    with duckdb.connect(str(folder / f"{lc}.duckdb")) as con:
        for name, frame in parts.items():
            con.register("frame", frame.to_arrow())
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
            con.unregister("frame")
    write_workbook(folder / f"{lc}.xlsx", lc, parts, about, by_measure)
    return lc, [f"{lc}.duckdb", f"{lc}.xlsx"]
