"""Checks on the marts before anything is published (run as Dagster asset checks).

``MART_CHECKS`` is the one list of them: name, whether a failure blocks publication, what each
checks and how to fix a failure. The Dagster asset checks are built from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import great_expectations as gx
import polars as pl

from config.labels import LEARNING_COMMUNITY, LOCAL_AUTHORITY, TOTAL
from expectations.runner import _batch_definition


@dataclass(frozen=True)
class MartCheckDefinition:
    name: str
    blocking: bool
    checks: str
    how_to_fix: str


MART_CHECKS = [
    MartCheckDefinition("rates_within_range", True, "Every percentage and rate lies in 0-100.",
                        "A rate outside 0-100 means a numerator or denominator is wrong in a model: look at the "
                        "rows listed and the measure's rule in docs/methodology.md."),
    MartCheckDefinition("numerator_within_denominator", True, "No numerator exceeds its denominator.",
                        "A group with more pupils meeting a measure than pupils counted: check the measure's "
                        "population condition in dbt_project/seeds/measures.csv."),
    MartCheckDefinition("every_community_every_year", True, "Every learning community has pupils on roll in every year.",
                        "A community with nobody on roll in a year usually means a census upload is missing: "
                        "run `pathways status` and send the missing school's census."),
    MartCheckDefinition("pupil_count_stable", False,
                        "A community's pupils on roll do not jump between years beyond the tolerance.",
                        "Usually a school missing from one census upload; if the change is real (a school "
                        "joined or left the community), nothing needs fixing."),
    MartCheckDefinition("disadvantage_sources_agree", False,
                        "The pupil premium file's Ever 6 FSM and the authority's census FSM history agree on every "
                        "pupil counted (docs/methodology.md#disadvantage-in-pathways).",
                        "Disagreements are expected for pupils not on the January census (the file lists only "
                        "them) and where the six-year census history is not held; others can mean a late FSM "
                        "record or a file for the wrong year. The counts per cohort and community are in "
                        "learning_community_data_quality; nothing needs fixing unless they grow unexpectedly."),
]


@dataclass
class MartCheck:
    """One check's result on this run's marts."""

    name: str
    passed: bool
    description: str
    failing_rows: int = 0

    def __post_init__(self):
        if self.name not in BLOCKING:
            raise ValueError(f"{self.name} is not in MART_CHECKS")

    @property
    def blocking(self) -> bool:
        return BLOCKING[self.name]


BLOCKING = {c.name: c.blocking for c in MART_CHECKS}


def _events_per_100_pupils() -> list[str]:
    """Measures that count events per 100 pupils (exclusions: docs/methodology.md#exclusions): a pupil can be
    suspended many times, so these can pass 100 and their numerator its denominator; they must not be negative."""
    from expectations.code_sets import _seed

    return [m["measure"] for m in _seed("measures") if m["unit"] == "per 100 pupils"]


def check_outcomes(outcomes: pl.DataFrame, learning_communities: list[str], tolerance: float) -> list[MartCheck]:
    events = _events_per_100_pupils()
    negative = outcomes.filter(pl.col("measure").is_in(events) & (pl.col("value") < 0))["value"].to_list()
    pct = outcomes.filter(pl.col("measure_type").is_in(["percentage", "rate"]) & ~pl.col("measure").is_in(events))
    suite = gx.ExpectationSuite(name="learning_community_outcomes", expectations=[
        gx.expectations.ExpectColumnValuesToBeBetween(column="value", min_value=0, max_value=100),
        gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(column_A="denominator", column_B="numerator", or_equal=True),
    ])
    result = _batch_definition().get_batch(batch_parameters={"dataframe": pct.to_pandas()}).validate(
        suite, result_format={"result_format": "SUMMARY"})
    range_r, ratio_r = result.results
    out_of_range = int(range_r.result.get("unexpected_count") or 0) + len(negative)
    checks = [
        MartCheck("rates_within_range", not out_of_range,
                  "every percentage and rate lies between 0 and 100 (events per 100 pupils at least 0)"
                  if not out_of_range else
                  f"{out_of_range} rates outside 0-100 (or events per 100 pupils below 0), "
                  f"e.g. {[*range_r.result.get('partial_unexpected_list', []), *negative][:3]}", out_of_range),
        MartCheck("numerator_within_denominator", bool(ratio_r.success),
                  "no numerator exceeds its denominator" if ratio_r.success else
                  f"{ratio_r.result.get('unexpected_count')} rows where the numerator exceeds the denominator",
                  int(ratio_r.result.get("unexpected_count") or 0)),
    ]
    roll = outcomes.filter((pl.col("measure") == "pupils_on_roll") & (pl.col("breakdown") == TOTAL)
                           & (pl.col("geographic_level") == LEARNING_COMMUNITY))
    years = sorted(roll["academic_year"].unique().to_list())
    present = set(roll.select("academic_year", "learning_community_code").iter_rows())
    missing = [(y, lc) for y in years for lc in learning_communities if (y, lc) not in present]
    checks.append(MartCheck(
        "every_community_every_year", not missing,
        "every learning community has pupils on roll in every year" if not missing else
        "no pupils on roll for " + ", ".join(f"{lc} in {y}/{(y + 1) % 100:02d}" for y, lc in missing[:10])
        + (" ..." if len(missing) > 10 else "") + " - is a census upload missing?", len(missing)))
    jumps = (roll.sort("academic_year").with_columns(
        previous=pl.col("numerator").shift(1).over("learning_community_code"))
        .filter(pl.col("previous").is_not_null()
                & ((pl.col("numerator") - pl.col("previous")).abs() > tolerance * pl.col("previous"))))
    checks.append(MartCheck(
        "pupil_count_stable", jumps.height == 0,
        f"pupils on roll move by no more than {tolerance:.0%} a year in every community" if jumps.height == 0 else
        "; ".join(f"{r['learning_community_code']} {int(r['previous'])} -> {int(r['numerator'])} in {r['academic_year']}"
                  for r in jumps.head(10).iter_rows(named=True)), jumps.height))
    return checks


EVER6_CHECKS = {"ever6_census_only_not_on_file": "Ever 6 on the census only, not on the pupil premium file",
                "ever6_census_only_file_unflagged": "Ever 6 on the census only, on the file without the flag",
                "ever6_file_only": "Ever 6 on the pupil premium file only"}


def check_disadvantage_sources(quality: pl.DataFrame) -> MartCheck:
    """A warning naming how many pupils, in the latest year, are disadvantaged on one Ever 6 source only:
    the pupil premium file or the census (authority level, pupils on roll at the January census)."""
    rows = quality.filter((pl.col("geographic_level") == LOCAL_AUTHORITY) & (pl.col("cohort") == "census")
                          & pl.col("check_code").is_in(list(EVER6_CHECKS)))
    if rows.height == 0:
        return MartCheck("disadvantage_sources_agree", True, "no pupils on roll to compare the two Ever 6 sources on")
    latest = rows.filter(pl.col("academic_year") == rows["academic_year"].max())
    parts = []
    for r in latest.sort("old_la_code", "check_code").iter_rows(named=True):
        if r["pupils"]:
            year = f"{r['academic_year']}/{(r['academic_year'] + 1) % 100:02d}"
            parts.append(f"{r['old_la_code']} {year}: {r['pupils']} of {r['cohort_pupils']} on roll "
                         f"{EVER6_CHECKS[r['check_code']]}")
    total = int(latest["pupils"].sum())
    return MartCheck("disadvantage_sources_agree", total == 0,
                     "the two Ever 6 sources agree on every pupil on roll" if total == 0 else
                     "; ".join(parts) + " - counted as disadvantaged either way; per cohort and community in "
                     "learning_community_data_quality", total)
