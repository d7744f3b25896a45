"""Checks on the marts before anything is published (run as Dagster asset checks).

Blocking (a failure stops publication):
  rates_within_range          every percentage and rate lies in 0-100;
  numerator_within_denominator no group has more pupils meeting a measure than it has pupils;
  every_community_every_year  each learning community has pupils on roll in every year.
Warning (published, but look):
  pupil_count_stable           a community's pupils on roll moves by more than the tolerance
                               between years (a school missing from a census upload, usually).
"""

from __future__ import annotations

from dataclasses import dataclass

import great_expectations as gx
import polars as pl

from expectations.runner import _batch_definition


@dataclass
class MartCheck:
    name: str
    blocking: bool
    passed: bool
    description: str
    failing_rows: int = 0


def check_outcomes(outcomes: pl.DataFrame, learning_communities: list[str], tolerance: float) -> list[MartCheck]:
    pct = outcomes.filter(pl.col("measure_type").is_in(["percentage", "rate"]))
    suite = gx.ExpectationSuite(name="learning_community_outcomes", expectations=[
        gx.expectations.ExpectColumnValuesToBeBetween(column="value", min_value=0, max_value=100),
        gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(column_A="denominator", column_B="numerator", or_equal=True),
    ])
    result = _batch_definition().get_batch(batch_parameters={"dataframe": pct.to_pandas()}).validate(
        suite, result_format={"result_format": "SUMMARY"})
    range_r, ratio_r = result.results
    checks = [
        MartCheck("rates_within_range", True, bool(range_r.success),
                  "every percentage and rate lies between 0 and 100" if range_r.success else
                  f"{range_r.result.get('unexpected_count')} rates outside 0-100, e.g. {range_r.result.get('partial_unexpected_list', [])[:3]}",
                  int(range_r.result.get("unexpected_count") or 0)),
        MartCheck("numerator_within_denominator", True, bool(ratio_r.success),
                  "no numerator exceeds its denominator" if ratio_r.success else
                  f"{ratio_r.result.get('unexpected_count')} rows where the numerator exceeds the denominator",
                  int(ratio_r.result.get("unexpected_count") or 0)),
    ]
    roll = outcomes.filter((pl.col("measure") == "pupils_on_roll") & (pl.col("breakdown") == "Total")
                           & (pl.col("geographic_level") == "Learning community"))
    years = sorted(roll["academic_year"].unique().to_list())
    present = set(roll.select("academic_year", "learning_community_code").iter_rows())
    missing = [(y, lc) for y in years for lc in learning_communities if (y, lc) not in present]
    checks.append(MartCheck(
        "every_community_every_year", True, not missing,
        "every learning community has pupils on roll in every year" if not missing else
        "no pupils on roll for " + ", ".join(f"{lc} in {y}/{(y + 1) % 100:02d}" for y, lc in missing[:10])
        + (" ..." if len(missing) > 10 else "") + " - is a census upload missing?", len(missing)))
    jumps = (roll.sort("academic_year").with_columns(
        previous=pl.col("numerator").shift(1).over("learning_community_code"))
        .filter(pl.col("previous").is_not_null()
                & ((pl.col("numerator") - pl.col("previous")).abs() > tolerance * pl.col("previous"))))
    checks.append(MartCheck(
        "pupil_count_stable", False, jumps.height == 0,
        f"pupils on roll move by no more than {tolerance:.0%} a year in every community" if jumps.height == 0 else
        "; ".join(f"{r['learning_community_code']} {int(r['previous'])} -> {int(r['numerator'])} in {r['academic_year']}"
                  for r in jumps.head(10).iter_rows(named=True)), jumps.height))
    return checks
