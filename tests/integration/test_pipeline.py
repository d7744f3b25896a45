"""The whole pipeline on a small generated borough: files in, Dagster runs ingest, dbt and
publish for real, and the published figures equal a computation written independently here."""

from __future__ import annotations

import json
import os
import re

import duckdb
import polars as pl
import pytest

from config.settings import PROJECT_ROOT
from ingest.archive import sha256_file
from tests.oracle import ks2_rwm_by_learning_community


def test_pipeline_publishes_the_right_ks2_figures(refreshed, small_borough_dir):
    settings = refreshed
    with duckdb.connect(str(settings.warehouse), read_only=True) as wh:
        mart = wh.sql("""SELECT academic_year, learning_community_code, subgroup, numerator, denominator
                         FROM marts.learning_community_outcomes
                         WHERE measure = 'ks2_rwm_expected' AND breakdown = 'Disadvantage'
                           AND geographic_level = 'Learning community'""").pl()
        raw_tables = {t for (t,) in wh.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'").fetchall()}
    assert {"census", "attendance", "attainment", "pupil_premium", "schools", "learning_communities"} <= raw_tables
    for year, label in ((2022, "2022-23"), (2023, "2023-24"), (2024, "2024-25")):
        expected = ks2_rwm_by_learning_community(small_borough_dir, label)
        got = mart.filter(pl.col("academic_year") == year)
        assert got.height == expected.height == 4
        for r in expected.iter_rows(named=True):
            subgroup = "Disadvantaged" if r["disadvantaged"] else "Not known to be disadvantaged"
            row = got.filter((pl.col("learning_community_code") == r["LearningCommunityCode"]) & (pl.col("subgroup") == subgroup))
            assert (row["numerator"][0], row["denominator"][0]) == (r["numerator"], r["denominator"]), (label, r)


def test_publication_is_read_only_aggregate_and_traceable(refreshed, small_borough_dir):
    settings = refreshed
    current = settings.published_dir / "current"
    assert current.is_symlink()
    db = current / "pathways.duckdb"
    assert not (db.stat().st_mode & 0o222)
    with duckdb.connect(str(db), read_only=True) as pub:
        tables = {t for (t,) in pub.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        cols = {c for (c,) in pub.execute("SELECT column_name FROM information_schema.columns").fetchall()}
        gaps = pub.sql("""SELECT * FROM learning_community_disadvantage_gaps
                          WHERE measure = 'ks2_rwm_expected' AND geographic_level = 'Learning community'""").pl()
    assert {"learning_community_outcomes", "learning_community_disadvantage_gaps"} <= tables
    assert not cols & {"pupil_key", "upn", "surname", "forename", "dob"}
    # every published gap equals the independent computation (or is withheld as 'c')
    for label, period in (("2023-24", 202324), ("2024-25", 202425)):
        exp = ks2_rwm_by_learning_community(small_borough_dir, label)
        for lc in exp["LearningCommunityCode"].unique():
            e = exp.filter(pl.col("LearningCommunityCode") == lc)
            d = e.filter(pl.col("disadvantaged")).row(0, named=True)
            o = e.filter(~pl.col("disadvantaged")).row(0, named=True)
            g = gaps.filter((pl.col("time_period") == period) & (pl.col("learning_community_code") == lc)).row(0, named=True)
            if g["gap_status"] == "c":
                assert g["gap"] is None
                continue
            # figures are numbers in the publication (sortable and summable without casts)
            assert (g["disadvantaged_numerator"], g["disadvantaged_denominator"]) == (d["numerator"], d["denominator"])
            # the gap of the unrounded rates, then rounded (as DfE publishes gaps)
            expected_gap = round(100 * o["numerator"] / o["denominator"] - 100 * d["numerator"] / d["denominator"], 1)
            assert g["gap"] == pytest.approx(expected_gap, abs=0.051)
    manifest = json.loads((current / "manifest.json").read_text())
    hashes = {u["source_file"]: u["sha256"] for u in manifest["source_uploads"]}
    assert hashes == {p.name: sha256_file(p) for p in small_borough_dir.iterdir()}
    assert all(c["passed"] for c in manifest["checks"] if c["blocking"]) and manifest["checks"]
    extracts = sorted(os.listdir(current / "by_learning_community"))
    assert {"LC01.xlsx", "LC01.duckdb", "LC02.xlsx", "LC02.duckdb"} <= set(extracts)


def test_a_second_refresh_adds_nothing_and_republishes(refreshed):
    from pathways.cli import run_refresh

    settings = refreshed
    first = os.readlink(settings.published_dir / "current")
    with duckdb.connect(str(settings.warehouse), read_only=True) as wh:
        uploads = wh.execute("SELECT count(*) FROM raw.uploads").fetchall()[0][0]
    assert run_refresh(settings)
    with duckdb.connect(str(settings.warehouse), read_only=True) as wh:
        assert wh.execute("SELECT count(*) FROM raw.uploads").fetchall()[0][0] == uploads
    assert os.readlink(settings.published_dir / "current") != first
    assert (settings.published_dir / first / "pathways.duckdb").exists()  # the previous one is kept


def test_each_extract_holds_only_its_own_community_and_benchmarks(refreshed):
    folder = refreshed.published_dir / "current" / "by_learning_community"
    for lc in ("LC01", "LC02"):
        with duckdb.connect(str(folder / f"{lc}.duckdb"), read_only=True) as con:
            tables = [t for (t,) in con.execute(
                "SELECT table_name FROM information_schema.columns WHERE column_name = 'learning_community_code'").fetchall()]
            assert "learning_community_outcomes" in tables and "school_categories" in tables
            for t in tables:
                codes = {c for (c,) in con.execute(f"SELECT DISTINCT learning_community_code FROM {t}").fetchall()}
                assert codes <= {lc, None}, (lc, t, codes)
        sheets = pl.read_excel(folder / f"{lc}.xlsx", sheet_id=0)
        for name, frame in sheets.items():
            if "learning_community_code" in frame.columns:
                assert set(frame["learning_community_code"].drop_nulls()) <= {lc}, (lc, name)


def test_no_published_figure_rests_on_a_small_denominator(refreshed):
    threshold = refreshed.suppression_threshold
    with duckdb.connect(str(refreshed.current_publication), read_only=True) as con:
        shown = con.sql("SELECT * FROM learning_community_outcomes WHERE value_status IS DISTINCT FROM 'c'").pl()
        assert shown.height > 0
        assert shown.select(pl.col("pupils").cast(pl.Int64).min()).item() > threshold
        pct = shown.filter(pl.col("measure_type") == "percentage").with_columns(
            n=pl.col("numerator").cast(pl.Float64), d=pl.col("denominator").cast(pl.Float64))
        assert pct.filter(pl.col("n").is_between(1, 2) | (pl.col("d") - pl.col("n")).is_between(1, 2)).height == 0
        gaps = con.sql("SELECT * FROM learning_community_disadvantage_gaps WHERE gap_status IS DISTINCT FROM 'c'").pl()
        assert gaps.select(pl.min_horizontal(pl.col("disadvantaged_pupils").cast(pl.Int64),
                                             pl.col("other_pupils").cast(pl.Int64)).min()).item() > threshold


def test_no_withheld_cell_can_be_recovered_from_published_totals(refreshed):
    with duckdb.connect(str(refreshed.current_publication), read_only=True) as con:
        o = con.sql("SELECT * FROM learning_community_outcomes").pl().with_columns(
            hidden=pl.col("value_status").eq_missing("c"))
    assert o["hidden"].sum() > 0  # the small borough does have small cells
    # subgroups of a breakdown add up to the Total row of the same geography
    totals = o.filter(pl.col("breakdown") == "Total").select(
        "time_period", "measure", "geographic_level", "learning_community_code", pl.col("hidden").alias("total_hidden"))
    parts = o.filter(pl.col("breakdown") != "Total").join(
        totals, on=["time_period", "measure", "geographic_level", "learning_community_code"], nulls_equal=True)
    by_breakdown = parts.group_by("time_period", "measure", "geographic_level", "learning_community_code", "breakdown").agg(
        hidden=pl.col("hidden").sum() + pl.col("total_hidden").first().cast(pl.Int64))
    assert by_breakdown.filter(pl.col("hidden") == 1).height == 0
    # learning communities add up to the authority (in the breakdowns published for communities:
    # the others have the authority's row only, docs/methodology.md#breakdowns-published-for-learning-communities)
    by_community = o.group_by("time_period", "measure", "breakdown", "subgroup").agg(
        hidden=pl.col("hidden").sum(), communities=(pl.col("geographic_level") == "Learning community").sum())
    assert by_community.filter(pl.col("communities") > 0).height > 0
    assert by_community.filter((pl.col("hidden") == 1) & (pl.col("communities") > 0)).height == 0


def test_school_category_reasons_quote_thresholds_never_a_school_figure(refreshed):
    # a school's own figure beside a published benchmark gives its count (docs/methodology.md#suppression-of-derived-tables):
    # every number in a data-driven reason is one of the categorisation thresholds (their one definition)
    rules = (PROJECT_ROOT / "dbt_project" / "macros" / "categorisation.sql").read_text()
    thresholds = {float(v) for v in re.findall(r'"\w+":\s*(-?\d+(?:\.\d+)?)', rules)}
    with duckdb.connect(str(refreshed.warehouse), read_only=True) as wh:
        # an inspection's reason names the inspection (its number and dates): public, from Ofsted
        reasons = wh.sql("SELECT reason FROM intermediate.int_school_category_signals WHERE rule <> 'inspection'").pl()["reason"]
    assert reasons.len() > 0
    for reason in reasons:
        numbers = re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])", reason.replace("progress 8", "progress"))
        assert {float(n) for n in numbers} <= thresholds, reason


def test_dbt_docs_generate_works(refreshed, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from orchestration.dbt_args import DBT_PROJECT_DIR, dbt_args

    dbt = Path(sys.executable).parent / "dbt"
    run = subprocess.run([str(dbt), *dbt_args("docs generate", refreshed, "--target-path", str(tmp_path)),
                          "--profiles-dir", "."], cwd=DBT_PROJECT_DIR, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:]
    catalog = json.loads((tmp_path / "catalog.json").read_text())
    assert "model.pathways.learning_community_gap_trends" in catalog["nodes"]


def test_eyfs_and_attendance_figures_match_an_independent_computation(refreshed, small_borough_dir):
    from tests.oracle import gld_by_learning_community, overall_absence_borough

    with duckdb.connect(str(refreshed.warehouse), read_only=True) as wh:
        mart = wh.sql("""SELECT academic_year, geographic_level, learning_community_code, measure, numerator, denominator
                         FROM marts.learning_community_outcomes
                         WHERE breakdown = 'Total' AND measure IN ('eyfs_good_level_of_development', 'overall_absence_rate')""").pl()
    for year, label in ((2022, "2022-23"), (2024, "2024-25")):
        for r in gld_by_learning_community(small_borough_dir, label).iter_rows(named=True):
            row = mart.filter((pl.col("academic_year") == year) & (pl.col("measure") == "eyfs_good_level_of_development")
                              & (pl.col("learning_community_code") == r["LearningCommunityCode"]))
            assert (row["numerator"][0], row["denominator"][0]) == (r["numerator"], r["denominator"])
        missed, possible = overall_absence_borough(small_borough_dir, label, year)
        row = mart.filter((pl.col("academic_year") == year) & (pl.col("measure") == "overall_absence_rate")
                          & (pl.col("geographic_level") == "Local authority"))
        assert (row["numerator"][0], row["denominator"][0]) == (missed, possible)


def test_dbt_assets_carry_row_counts_and_columns_in_dagster(refreshed):
    """What an analyst sees on a mart's page in the Dagster UI: its row count and its columns."""
    import dagster as dg

    from pathways.cli import dagster_instance

    with dagster_instance(refreshed) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["marts", "learning_community_outcomes"]))
    metadata = event.asset_materialization.metadata
    with duckdb.connect(str(refreshed.warehouse), read_only=True) as wh:
        rows = wh.execute("SELECT count(*) FROM marts.learning_community_outcomes").fetchone()[0]
    assert metadata["dagster/row_count"].value == rows > 0
    columns = {c.name: c for c in metadata["dagster/column_schema"].value.columns}
    assert {"time_period", "measure", "numerator", "denominator", "value"} <= set(columns)
    assert columns["value"].description and columns["numerator"].type == "double"
