"""The CBDS code sets are seeds (docs/methodology.md#cbds-code-sets): complete, one list for the
validator and the warehouse, and a code used outside its dates is named by row and column."""

from __future__ import annotations

import csv

import polars as pl

from expectations import code_sets as cs
from expectations.runner import validate_table
from ingest.canonical import canonicalise


def _seed(name: str) -> list[dict]:
    with open(cs.SEEDS / f"{name}.csv") as f:
        return list(csv.DictReader(f))


def test_every_ethnicity_code_rolls_up_to_a_main_code_and_both_major_groupings():
    rows = {r["ethnicity_code"]: r for r in _seed("ethnicity_codes")}
    assert len(rows) >= 99
    for code, r in rows.items():
        assert r["ethnicity_main_code"] in rows and rows[r["ethnicity_main_code"]]["ethnicity_main_code"] == r["ethnicity_main_code"]
        assert r["ethnicity_major_group"] and r["ethnicity_major_group_ees"], code
    assert rows["APKN"]["ethnicity_main_code"] == rows["AMPK"]["ethnicity_main_code"] == "APKN"
    assert (rows["CHNE"]["ethnicity_major_group"], rows["CHNE"]["ethnicity_major_group_ees"]) == ("Chinese", "Asian / Asian British")
    assert cs.ethnicity_codes() == list(rows)


def test_the_language_list_is_dfes_and_says_what_counts_as_english():
    rows = {r["language_code"]: r for r in _seed("first_languages")}
    assert len(rows) == 316
    assert {c for c, r in rows.items() if r["eal_status"] == "english"} == {"ENG", "ENB"}
    assert {c for c, r in rows.items() if r["eal_status"] == "unknown"} == {"NOT", "REF", "ZZZ"}
    assert {c for c, r in rows.items() if r["is_language_type_category"] == "true"} == {"ENB", "OTB", "OTH"}


def test_a_code_out_of_force_on_the_census_date_is_named(small_borough_dir, tmp_path):
    base = sorted(small_borough_dir.glob("school_census_*_spring.csv"))[-1]
    df = pl.read_csv(base, infer_schema_length=0)
    i = df["SENprovision"].to_list().index("E")
    df = df.with_columns(pl.when(pl.int_range(pl.len()) == i).then(pl.lit("S")).otherwise(pl.col("SENprovision"))
                         .alias("SENprovision"))
    p = tmp_path / base.name
    df.write_csv(p)
    findings = [f for f in validate_table(canonicalise(p)) if f.rule == "sen_provision_out_of_use"]
    assert [(f.row, f.column, f.value, f.severity) for f in findings] == [(i + 2, "SENprovision", "S", "warning")]
