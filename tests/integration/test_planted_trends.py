"""The generator plants a community whose exclusions rise and one whose young people become NEET more
often (synthetic/exclusions.py, synthetic/post16.py); the trend verdicts must find them, and only them
(docs/methodology.md#trend-of-the-figure). The session's small borough holds too few post-16 years for a
trend, so a small borough over eight years is generated (a few seconds), its gaps recomputed from the
files by the oracle (tests/oracle.py, equal to the pipeline's by tests/integration/test_oracle.py), and
the real SQL of learning_community_gap_trends judges them, as tests/integration/test_trend_verdicts.py does."""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from synthetic import generate
from synthetic.spec import small_borough
from tests import oracle
from tests.integration.test_trend_verdicts import _run_the_model

RATES = ["permanent_exclusion_rate", "suspension_rate", "one_plus_suspension_rate", "neet_16_17",
         "neet_or_not_known_16_17"]


def test_the_planted_rises_in_exclusions_and_neet_are_found_and_nowhere_else(tmp_path):
    spec = replace(small_borough(), first_year=2017, last_year=2024)
    generate(spec, tmp_path / "borough")
    b = oracle.load(tmp_path / "borough")
    out, _ = oracle.outcomes(b)
    g = oracle.gaps(out).filter(pl.col("stage").is_in(oracle.EVENT_RATE_STAGES) & (pl.col("geographic_level") == "Learning community"))
    rows = g.select(
        time_period=(pl.col("year") * 100 + (pl.col("year") + 1) % 100).cast(pl.Int32), time_identifier="time_identifier",
        geographic_level="geographic_level", old_la_code="old_la_code", learning_community_code="lc", stage="stage",
        measure="measure", measure_type="measure_type", academic_year=pl.col("year").cast(pl.Int32),
        disadvantaged_numerator="dis_num", disadvantaged_denominator="dis_den", other_numerator="oth_num",
        other_denominator="oth_den")
    directions = {m: h for m, h in g.select("measure", "higher_is_better").unique().iter_rows()}
    kinds = {m: k for m, k in g.select("measure", "measure_type").unique().iter_rows()}
    judged = _run_the_model(rows, tmp_path, directions)

    verdict = {(r["learning_community_code"], r["measure"]): r for r in judged.iter_rows(named=True)}
    expected = {(t["lc"], t["measure"]): t for t in oracle.trends(g)}
    assert set(verdict) == set(expected)
    for key, r in verdict.items():  # the SQL follows the methodology on every series
        e = expected[key]
        assert (r["value_trend"], r["value_interval_basis"], r["trend"]) == (e["value_trend"], e["value_basis"], e["trend"]), key
        assert abs(r["value_change_per_year"] - e["value_slope"]) < 0.0051, key
        if kinds[key[1]] == "rate":  # an event rate has no Newcombe interval; a percentage (participation) has
            assert r["gap_change_lower_95"] is None and r["gap_change_upper_95"] is None, key
        else:
            assert r["gap_change_lower_95"] <= r["gap_change"] <= r["gap_change_upper_95"], key

    exclusions, neet = spec.planted_exclusions_rising, spec.planted_neet_rising
    for lc in {lc for lc, _ in verdict}:
        # a measure communities get at Total only has no community gap, so no community trend
        for measure in [m for m in RATES if m not in oracle.COMMUNITY_TOTALS_ONLY]:
            r = verdict[(lc, measure)]
            assert r["years_in_window"] == 5
            planted = (lc == exclusions and measure in ("suspension_rate", "one_plus_suspension_rate")) or (
                lc == neet and measure.startswith("neet"))
            assert (r["value_trend"] == "rising") == planted, (lc, measure, r["value_change_per_year"],
                                                                r["value_change_per_year_lower_95"], r["value_trend"])
