"""Each measure is published to its own decimal places, DfE's (docs/methodology.md#rounding-on-publication):
an exclusion or suspension rate per 100 pupils to 2 dp (England 0.13, not 0.1), other figures to 1.
Written from the methodology: the expected percentage or rate is round-half-up of numerator /
denominator x 100 at the measure's places, from the published numerator and denominator."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import duckdb
import polars as pl

from tests.ees_screener import read_pair

EXCLUSION_RATES = ("permanent_exclusion_rate", "suspension_rate", "one_plus_suspension_rate")


def _half_up(numerator: float, denominator: float, places: int) -> float:
    exact = Decimal(repr(numerator)) * 100 / Decimal(repr(denominator))
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _published(settings, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(settings.published_dir / "current" / "pathways.duckdb"), read_only=True) as db:
        return db.sql(sql).pl()


def test_exclusion_rates_are_published_to_two_places_and_other_rates_to_one(refreshed):
    places = dict(_published(refreshed, "SELECT measure, decimals FROM measures").iter_rows())
    assert {places[m] for m in EXCLUSION_RATES} == {2}
    assert places["overall_absence_rate"] == 1 and places["neet_16_17"] == 1
    rows = _published(refreshed, "SELECT measure, numerator, denominator, value FROM learning_community_outcomes "
                                  "WHERE value IS NOT NULL AND measure_type IN ('percentage', 'rate')")
    # the small borough's permanent exclusions and secondary-phase rates are withheld whole (too few
    # events to protect: docs/methodology.md#publishing-less); the suspension rates are shown
    assert {"suspension_rate", "one_plus_suspension_rate"} <= set(rows["measure"])
    for measure, numerator, denominator, value in rows.iter_rows():
        assert value == _half_up(numerator, denominator, places[measure]), (measure, numerator, denominator, value)
    # the second place is really there: some exclusion rate is not a whole number of tenths
    shown = rows.filter(pl.col("measure").is_in(EXCLUSION_RATES))["value"]
    assert any(round(v * 100) % 10 for v in shown)


def test_gap_group_values_and_gaps_follow_the_measures_places(refreshed):
    gaps = _published(refreshed, "SELECT g.measure, m.decimals, disadvantaged_numerator, disadvantaged_denominator, "
                                 "disadvantaged_value, other_numerator, other_denominator, other_value, gap "
                                 "FROM learning_community_disadvantage_gaps g JOIN measures m USING (measure) "
                                 "WHERE disadvantaged_value IS NOT NULL AND other_value IS NOT NULL "
                                 "AND g.measure_type IN ('percentage', 'rate')")
    excluded = gaps.filter(pl.col("measure").is_in(EXCLUSION_RATES))
    assert excluded.height
    for row in gaps.iter_rows(named=True):
        d, o = (_half_up(row[f"{g}_numerator"], row[f"{g}_denominator"], row["decimals"]) for g in ("disadvantaged", "other"))
        assert (row["disadvantaged_value"], row["other_value"]) == (d, o), row
        assert round(row["gap"], row["decimals"]) == row["gap"], row
    assert any(round(v * 100) % 10 for v in excluded["disadvantaged_value"].to_list() + excluded["other_value"].to_list())


def test_open_data_metadata_gives_each_indicator_its_measures_places(refreshed):
    folder = refreshed.published_dir / "current" / "open_data"
    labels = dict(_published(refreshed, "SELECT measure_label, decimals FROM measures").iter_rows())
    seen = set()
    for data in sorted(folder.glob("*.csv")):
        if data.name.endswith(".meta.csv") or "measure" not in pl.read_csv(data, n_rows=0).columns:
            continue
        pair = read_pair(data, data.with_name(data.name.removesuffix(".csv") + ".meta.csv"))
        dp = dict(zip(pair.meta["col_name"], pair.meta["indicator_dp"], strict=True))
        value = next(c for c in ("percentage", "rate", "average", "number", "disadvantaged_value", "last_value")
                     if c in dp)
        places = {labels[m] for m in pair.data["measure"].unique()}
        assert len(places) == 1, f"{data.name} mixes measures published to {places} places"
        assert int(dp[value]) == places.pop(), data.name
        seen.add((data.name.split("_")[0], int(dp[value])))
    assert {("outcomes", 2), ("outcomes", 1), ("disadvantage", 2)} <= seen


def test_a_workbook_shows_each_value_to_its_measures_places(refreshed):
    import openpyxl

    labels = dict(_published(refreshed, "SELECT measure_label, decimals FROM measures").iter_rows())
    wb = openpyxl.load_workbook(refreshed.published_dir / "current" / "by_learning_community" / "LC01.xlsx")
    sheet = wb["Outcomes"]
    header = [c.value for c in sheet[4]]
    measure, value = header.index("Measure"), header.index("Figure")
    formats = {}
    for row in sheet.iter_rows(min_row=5):
        if isinstance(row[value].value, float):
            formats.setdefault(labels[row[measure].value], set()).add(row[value].number_format)
    # an exclusion rate of 0.13 is shown as 0.13, never 0.1; a percentage as 61.3, never 61.30
    assert formats[2] == {"#,##0.00"} and formats[1] == {"#,##0.0"}
