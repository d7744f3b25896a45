"""The publication's open data read as DfE's screener reads it: every EES file pair passes every rule
of tests/ees_screener.py (the test names the rule), and carries what the standard asks for."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.ees_screener import RULES, read_pair

RELEASED = ("outcomes_percentages", "disadvantage_gaps_percentages", "gap_trends_percentages", "gap_index",
            "cohort_stages", "cohort_transitions", "data_quality")


def _pairs(settings) -> list[tuple[Path, Path]]:
    folder = settings.published_dir / "current" / "open_data"
    return [(d, d.with_name(d.name.removesuffix(".csv") + ".meta.csv"))
            for d in sorted(folder.glob("*.csv")) if not d.name.endswith(".meta.csv")]


@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_open_data_pair_passes_the_screener_rule(refreshed, rule):
    pairs = _pairs(refreshed)
    assert pairs
    problems = {d.name: RULES[rule](read_pair(d, m)) for d, m in pairs}
    assert not {k: v for k, v in problems.items() if v}, f"EES screener rule {rule} fails"


def test_each_released_table_has_a_pair_and_communities_are_a_filter_with_a_total(refreshed):
    names = {d.name.removesuffix(".csv") for d, _ in _pairs(refreshed)}
    assert set(RELEASED) <= names
    gaps = read_pair(*next(p for p in _pairs(refreshed) if p[0].name == "disadvantage_gaps_percentages.csv"))
    assert set(gaps.data["geographic_level"]) == {"National", "Local authority"}
    communities = set(gaps.data["learning_community"])
    assert "Total" in communities and len(communities) >= 3  # the authority and its communities
    la = gaps.data.filter(pl.col("geographic_level") == "Local authority")
    assert (la["region_code"] != "").all() and (la["old_la_code"] != "").all()
    # national rows carry England's published figures; absent ones are a symbol, never blank
    national = gaps.data.filter(pl.col("geographic_level") == "National")
    assert national.height and (national["gap"] != "x").any()
    assert not any((gaps.data[c] == "").any() for c in gaps.indicators)
    units = dict(zip(gaps.meta["col_name"], gaps.meta["indicator_unit"], strict=True))
    assert units["disadvantaged_value"] == "%" and units["gap"] == "pp"  # one unit per indicator


def test_every_stage_the_measures_define_is_named_in_words():
    # the EES files and workbooks show a stage in words; a new source's stage must not leak out as a code
    from orchestration.dbt_args import measure_definitions
    from publish.open_data import STAGES

    assert {m["stage"] for m in measure_definitions()} <= set(STAGES)
