"""Issue 19's sources through the whole pipeline (the session's one refresh of the small borough):
Ofsted's management information, both layouts, reaches each school and the school categories."""

from __future__ import annotations

import duckdb
import polars as pl

from tests.oracle import ofsted_inspections


def _published(settings, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(settings.current_publication), read_only=True) as con:
        return con.sql(sql).pl()


def test_each_school_shows_its_latest_inspection_in_either_framework(refreshed):
    schools = _published(refreshed, "SELECT * FROM dim_schools")
    inspected = schools.filter(pl.col("ofsted_publication_date").is_not_null())
    assert inspected.height >= schools.filter(pl.col("is_open")).height - 1
    cards = inspected.filter(pl.col("ofsted_framework") == "Report card")
    assert cards.height >= 1  # the report-card layout was read
    # a report card has no overall grade and keeps its text grades; never 1-4
    assert cards["ofsted_overall_effectiveness"].null_count() == cards.height
    assert all("standard" in o or "attention" in o or "improvement" in o or "Exceptional" in o
               for o in cards["ofsted_outcome"])
    assert not any(part.split()[-1].isdigit() for o in cards["ofsted_outcome"] for part in o.split("; "))


def test_school_categories_cite_the_inspection_in_force_and_its_grades(refreshed, small_borough_dir):
    cats = _published(refreshed, "SELECT * FROM school_categories")
    assert cats["ofsted_inspection"].null_count() < cats.height / 4
    # every inspection cited is one the files hold for that school, published by the end of the year cited
    la = int(cats["school_laestab"][0]) // 10000
    files = ofsted_inspections(small_borough_dir, la)
    numbers = set(files["number"].drop_nulls())
    for r in cats.filter(pl.col("ofsted_inspection").is_not_null()).iter_rows(named=True):
        cited = r["ofsted_inspection"].split()[2]
        assert cited in numbers or cited.startswith("("), r
        published = r["ofsted_inspection"].split("published ")[1][:10]
        assert published <= f"{r['academic_year'] + 1}-08-31", r
    # an inspection with a red or amber grade is a reason, and makes the category at least that colour
    signalled = cats.filter(pl.col("reasons").str.contains("Ofsted inspection"))
    assert signalled.height >= 1
    for r in signalled.iter_rows(named=True):
        level = "red" if "red: Ofsted inspection" in r["reasons"] else "amber"
        assert r["category"] == "red" or (level == "amber" and r["category"] == "amber"), r
