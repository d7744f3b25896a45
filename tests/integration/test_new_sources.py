"""Issue 19's sources through the whole pipeline (the session's one refresh of the small borough):
Ofsted's management information, both layouts, reaches each school and the school categories."""

from __future__ import annotations

import duckdb
import polars as pl

from tests import oracle as ot
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


# --- exclusions (docs/methodology.md#exclusions) -------------------------------------------------------

EXCLUSION_MEASURES = [f"{m}{s}" for m in ("permanent_exclusion_rate", "suspension_rate", "one_plus_suspension_rate")
                      for s in ("", "_primary", "_secondary")]


def test_each_exclusion_counts_once_though_two_returns_carry_it(refreshed, small_borough_dir):
    # every term's exclusions are in two census returns: the files hold more rows than exclusions
    files = pl.concat([pl.read_csv(p, infer_schema_length=0) for p in sorted(small_borough_dir.glob("census_exclusions_*.csv"))])
    distinct = files.select("UPN", "LAESTAB", "Category", "StartDate").unique().height
    assert files.height > 1.5 * distinct
    with duckdb.connect(str(refreshed.warehouse_path), read_only=True) as con:
        loaded = con.sql("SELECT count(*) FROM staging.stg_exclusions__exclusions").fetchone()[0]
        raw = con.sql("SELECT count(*) FROM raw.exclusions").fetchone()[0]
    assert loaded == raw == distinct


def _in_every_community(refreshed, stage: str, measures: list[str], min_years: int):
    """A stage's published outcomes, asserting each measure's all-pupils figure is there for every
    learning community in every year the stage has: (outcomes, their Total rows, communities, years)."""
    out = _published(refreshed, f"SELECT * FROM learning_community_outcomes WHERE stage = '{stage}'")
    total = out.filter(pl.col("breakdown") == "Total")
    communities = set(_published(refreshed, "SELECT learning_community_code FROM dim_learning_communities")
                      ["learning_community_code"])
    years = sorted(total["academic_year"].unique())
    assert len(years) >= min_years
    for m in measures:
        rows = total.filter(pl.col("measure") == m)
        assert {(r["learning_community_code"], r["academic_year"]) for r in rows.iter_rows(named=True)} >= {
            (lc, y) for lc in communities for y in years}, m
    return out, total, communities, years


def test_exclusion_rates_are_published_for_every_community_and_the_planted_rise_is_seen(refreshed):
    from synthetic.spec import small_borough

    planted = small_borough().planted_exclusions_rising
    out, total, communities, years = _in_every_community(refreshed, "exclusions", EXCLUSION_MEASURES, min_years=3)
    # subgroups reach the mart: disadvantage, SEN and GRT breakdowns of the headline rates
    assert {"Disadvantage", "SEN provision", "Gypsy, Roma and Traveller"} <= set(
        out.filter(pl.col("measure") == "suspension_rate")["breakdown"])
    rates = total.filter((pl.col("measure") == "suspension_rate") & pl.col("learning_community_code").is_not_null())

    def series(lc):
        return [r["value"] for r in rates.filter(pl.col("learning_community_code") == lc).sort("academic_year")
                .iter_rows(named=True)]

    rising = series(planted)
    assert all(b > a for a, b in zip(rising, rising[1:])), rising
    for lc in communities - {planted}:
        other = series(lc)
        assert rising[-1] - rising[0] > other[-1] - other[0] + 3, (planted, rising, lc, other)


# --- post-16 participation and NEET (docs/methodology.md#post-16-participation-and-neet) --------------------

POST16_MEASURES = ["neet_or_not_known_16_17", "neet_16_17", "activity_not_known_16_17", "participation_16_17"]


def test_post16_measures_are_published_for_every_community_and_the_planted_neet_rise_is_seen(refreshed):
    from synthetic.spec import small_borough

    planted = small_borough().planted_neet_rising
    out, total, communities, years = _in_every_community(refreshed, "post16", POST16_MEASURES, min_years=2)
    # NEET or not known is the sum of its two parts (same months, same cohort)
    la = total.filter(pl.col("learning_community_code").is_null())
    for y in years:
        v = {r["measure"]: r["numerator"] for r in la.filter(pl.col("academic_year") == y).iter_rows(named=True)}
        assert v["neet_or_not_known_16_17"] == v["neet_16_17"] + v["activity_not_known_16_17"]
    neet = total.filter((pl.col("measure") == "neet_16_17") & pl.col("learning_community_code").is_not_null())

    def series(lc):
        return [r["numerator"] / r["denominator"] for r in neet.filter(pl.col("learning_community_code") == lc)
                .sort("academic_year").iter_rows(named=True)]

    rising = series(planted)
    assert all(b > a for a, b in zip(rising, rising[1:])), rising
    for lc in communities - {planted}:
        other = series(lc)
        assert rising[-1] - rising[0] > other[-1] - other[0], (planted, rising, lc, other)


# --- the cohort journey to 17 (docs/methodology.md#cohort-stage-age-17) -------------------------------------


def test_the_cohort_journey_runs_from_reception_to_17_in_every_community(refreshed):
    stages = _published(refreshed, "SELECT * FROM learning_community_cohort_stages WHERE subgroup = 'Total'")
    communities = set(_published(refreshed, "SELECT learning_community_code FROM dim_learning_communities")
                      ["learning_community_code"])
    at_17 = stages.filter(pl.col("stage") == "age17")
    assert set(at_17["learning_community_code"].drop_nulls()) == communities
    # the last stage of the journey: after KS4, in the year the cohort is 17 (Reception + 13)
    assert at_17["stage_order"].min() > stages.filter(pl.col("stage") == "ks4")["stage_order"].max()
    assert (at_17["time_period"] // 100 == at_17["reception_year"] + 13).all()
    authority = at_17.filter(pl.col("geographic_level") == "Local authority")
    assert authority["denominator"].sum() > 0 and 0 < authority["numerator"].sum() <= authority["denominator"].sum()
    # the KS4 cohort followed into post-16: a KS4 -> age 17 transition for every community
    moves = _published(refreshed, "SELECT * FROM learning_community_cohort_transitions "
                                  "WHERE from_stage = 'ks4' AND to_stage = 'age17' AND subgroup = 'Total'")
    assert set(moves["learning_community_code"].drop_nulls()) == communities


# --- funded early education (docs/methodology.md#funded-early-education) ------------------------------------

EARLY_EDUCATION_MEASURES = ["two_year_old_take_up", "eyfs_gld_took_up_two_year_place", "eyfs_gld_eligible_not_taken_up",
                            "three_four_year_old_take_up"]


def test_two_year_old_take_up_is_published_for_every_community_and_followed_into_eyfs(refreshed, small_borough_dir):
    out = _published(refreshed, "SELECT * FROM learning_community_outcomes WHERE stage = 'early_education'")
    total = out.filter(pl.col("breakdown") == "Total")
    communities = set(_published(refreshed, "SELECT learning_community_code FROM dim_learning_communities")
                      ["learning_community_code"])
    take_up = total.filter(pl.col("measure") == "two_year_old_take_up")
    years = sorted(take_up["academic_year"].unique())
    assert len(years) >= 3
    assert {(r["learning_community_code"], r["academic_year"]) for r in take_up.iter_rows(named=True)} >= {
        (lc, y) for lc in communities for y in years}
    # realistic take-up (England 62-75% since 2018), and the communities add up to the authority: every
    # listed child's home sector is in a community
    la = take_up.filter(pl.col("learning_community_code").is_null())
    for r in la.iter_rows(named=True):
        assert 55 <= 100 * r["numerator"] / r["denominator"] <= 95, r
        parts = take_up.filter((pl.col("academic_year") == r["academic_year"]) & pl.col("learning_community_code").is_not_null())
        assert parts["denominator"].sum() == r["denominator"]
    # the eligible children are followed into Reception: both groups are published, and together they are
    # the EYFSP pupils who were on a list (matched by keyed hash, never by a name)
    lists = pl.concat([pl.read_csv(p, infer_schema_length=0) for p in small_borough_dir.glob("eligible_two_year_olds_*.csv")])
    eyfsp = pl.concat([pl.read_csv(p, infer_schema_length=0) for p in small_borough_dir.glob("eyfsp_*.csv")])
    listed_in_reception = eyfsp.join(lists.select("UPN").unique(), on="UPN").height
    assert set(total["measure"]) == set(EARLY_EDUCATION_MEASURES)
    with duckdb.connect(str(refreshed.warehouse_path), read_only=True) as con:  # before suppression: whole counts
        followed = con.sql("SELECT sum(denominator) FROM marts.learning_community_outcomes WHERE breakdown = 'Total' "
                           "AND learning_community_code IS NULL AND measure IN ('eyfs_gld_took_up_two_year_place', "
                           "'eyfs_gld_eligible_not_taken_up')").fetchone()[0]
    assert followed == listed_in_reception > 0
    # a national benchmark with its EES source
    bench = _published(refreshed, "SELECT * FROM national_benchmarks WHERE measure = 'two_year_old_take_up'")
    assert bench.height >= 5 and bench["source"].str.contains("explore-education-statistics").all()


def test_three_and_four_year_old_take_up_is_over_the_resident_population_for_every_community(refreshed,
                                                                                            small_borough_dir):
    """docs/methodology.md#three_four_year_old_take_up: registered children over the ONS resident population,
    for every community in every year with all three sources, at Total only (the population has no
    subgroups), equal to the recomputation and against the national figure."""
    with duckdb.connect(str(refreshed.warehouse_path), read_only=True) as con:  # before suppression: whole counts
        out = con.sql("SELECT * FROM marts.learning_community_outcomes "
                      "WHERE measure = 'three_four_year_old_take_up'").pl()
    assert set(out["breakdown"]) == {"Total"} and set(out["subgroup"]) == {"Total"}
    communities = set(_published(refreshed, "SELECT learning_community_code FROM dim_learning_communities")
                      ["learning_community_code"])
    years = sorted(out["academic_year"].unique())
    assert years
    assert {(r["learning_community_code"], r["academic_year"]) for r in out.iter_rows(named=True)} == {
        (lc, y) for lc in communities for y in years} | {(None, y) for y in years}
    # the denominator is the population file's residents aged 3 and 4 (every generated sector is placed)
    pop = pl.read_csv(small_borough_dir / "population_estimates.csv").filter(pl.col("Age").is_in([3, 4]))
    la = out.filter(pl.col("learning_community_code").is_null())
    for r in la.iter_rows(named=True):
        assert r["denominator"] == pop.filter(pl.col("MidYear") == r["academic_year"])["Population"].sum()
        # pupils: the registered children (the population rows are no pupils); realistic take-up (England 90-95%)
        assert r["pupils"] == r["numerator"] and 85 <= r["value"] <= 100, r
        parts = out.filter((pl.col("academic_year") == r["academic_year"]) & pl.col("learning_community_code").is_not_null())
        assert parts["numerator"].sum() == r["numerator"] and parts["denominator"].sum() == r["denominator"]
    # equal to the recomputation from the methodology
    expected = ot.three_four_year_olds(ot.load(small_borough_dir))
    got = {(r["academic_year"], r["learning_community_code"]): (r["numerator"], r["denominator"]) for r in out.iter_rows(named=True)}
    assert got == {(r["year"], r["lc"]): (r["numerator"], r["denominator"]) for r in expected.iter_rows(named=True)}
    bench = _published(refreshed, "SELECT * FROM national_benchmarks WHERE measure = 'three_four_year_old_take_up'")
    assert bench.height >= 5 and bench["source"].str.contains("explore-education-statistics").all()
