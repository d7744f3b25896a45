"""The publication's open data: each outcome table as a tidy CSV and its ``.meta.csv``, to DfE's
Explore Education Statistics (EES) open-data standard, in ``published/<id>/open_data/``
(docs/methodology.md#open-data-files).

How the marts are turned into EES files:

* **Learning communities are a filter, not a geographic level.** EES has no learning-community
  level (DfE's screener fails any level outside its list), so every community row is published
  as a ``Local authority`` row with the filter ``learning_community`` holding its name; the
  whole authority's row, and national rows, hold ``Total`` there.
* **Geography columns**: every authority row carries its region (from DfE's region-LA lookup,
  ``publish/reference/region_la_hierarchy.csv``); national rows leave region and LA blank.
* **National rows where national figures are shown**: the marts keep England's figures in
  ``national_*`` columns beside each row; here they become ``National`` rows.
* **One unit per indicator**: the outcome, gap and trend tables mix percentages, averages and
  rates across measures, so each is split into one file per kind of measure, and per decimal
  places where a kind's measures are published to different places (the measures seed's
  ``decimals``: exclusion rates to 2, absence rates to 1), so each indicator's ``indicator_dp`` is
  its measures' own.
* **Symbols**: a figure that is absent is ``c`` (withheld), ``z`` (not applicable) or ``x``
  (not available), never blank.
* **Text**: formula-like names are neutralised (publish/safe_text.py); filter items are at most
  120 characters, labels 80, column names 50 (the EES API's limits).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import polars as pl

from config.labels import LEARNING_COMMUNITY, LOCAL_AUTHORITY, TOTAL
from publish.masking import NOT_AVAILABLE, as_symbols, status_column
from publish.safe_text import neutralise_frame

REFERENCE = Path(__file__).parent / "reference"
NATIONAL = "National"
ENGLAND = ("E92000001", "England")
ACADEMIC_YEAR = "Academic year"
ITEM_LIMIT = 120
LABEL_LIMIT = 80
NAME_LIMIT = 50
META_COLUMNS = ["col_name", "col_type", "label", "indicator_grouping", "indicator_unit", "indicator_dp",
                "filter_hint", "filter_grouping_column", "filter_default"]
GEOGRAPHY = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name",
             "region_code", "region_name", "old_la_code", "new_la_code", "la_name"]
# each kind of measure (measures.measure_type) and the unit of its values and gaps
KINDS = {"percentage": ("percentages", "%", "pp"), "rate": ("rates", "%", "pp"),
         "average": ("averages", "", ""), "count": ("counts", "", "")}


@dataclass(frozen=True)
class Indicator:
    source: str                 # column of the published table
    name: str                   # EES column name
    label: str
    unit: str = ""              # '%', 'pp', '£', '£m', 'numberstring' or blank
    dp: int | None = 0
    national: str | None = None  # the published column holding England's figure, for National rows


@dataclass(frozen=True)
class Filter:
    name: str
    label: str
    hint: str = ""
    group: str = ""             # another filter column grouping this one
    default: str = TOTAL


@dataclass
class OpenTable:
    table: str
    file: str
    filters: list[Filter]
    indicators: list[Indicator]
    split_by_kind: bool = False
    shape: object = None        # frame -> frame adding the filter columns
    extra: dict = field(default_factory=dict)


# the stages in words (the marts hold their codes)
STAGES = {"census": "Pupils on roll (census)", "eyfs": "Early years foundation stage", "phonics": "Phonics",
          "phonics_y1": "Phonics (Year 1)", "phonics_y2": "Phonics (by the end of Year 2)", "ks1": "Key stage 1",
          "ks2": "Key stage 2", "ks4": "Key stage 4", "attendance": "Attendance",
          "exclusions": "Suspensions and permanent exclusions", "post16": "Post-16 participation (ages 16 and 17)",
          "age17": "Age 17: in education, employment or training",
          "early_education": "Funded early education"}


def _stage_words(code: pl.Expr) -> pl.Expr:
    return code.replace(STAGES)


def _measure_filters(frame: pl.DataFrame, measures: pl.DataFrame) -> pl.DataFrame:
    labels = measures.select("measure", pl.col("measure_label").alias("_measure_label"))
    return (frame.join(labels, on="measure", how="left")
            .with_columns(measure=pl.coalesce("_measure_label", "measure")).drop("_measure_label"))


def _subgroups(frame: pl.DataFrame, _m) -> pl.DataFrame:
    return frame


def _transitions(frame: pl.DataFrame, _m) -> pl.DataFrame:
    return frame.with_columns(transition=_stage_words(pl.col("from_stage")) + " to " + _stage_words(pl.col("to_stage")))


def _cohorts(frame: pl.DataFrame, _m) -> pl.DataFrame:
    return frame.with_columns(reception_cohort="Started Reception in " + _year_text(pl.col("reception_year")))


def _year_text(start: pl.Expr) -> pl.Expr:
    return start.cast(pl.String) + "/" + ((start + 1) % 100).cast(pl.String).str.zfill(2)


LC = Filter("learning_community", "Learning community",
            "A group of the authority's schools; Total is the whole authority")
MEASURE = Filter("measure", "Measure")
STAGE = Filter("stage", "Stage of education")
BREAKDOWN = Filter("breakdown", "Pupil characteristic")
SUBGROUP = Filter("subgroup", "Pupil group", group="breakdown")


def _gap_indicators(value_unit: str, gap_unit: str, _kind: str, dp: int) -> list[Indicator]:
    return [
        Indicator("disadvantaged_pupils", "disadvantaged_pupil_count", "Disadvantaged pupils"),
        Indicator("disadvantaged_numerator", "disadvantaged_numerator", "Disadvantaged pupils: numerator", dp=2),
        Indicator("disadvantaged_denominator", "disadvantaged_denominator", "Disadvantaged pupils: denominator", dp=2),
        Indicator("disadvantaged_value", "disadvantaged_value", "Disadvantaged pupils: figure", value_unit, dp,
                  national="national_disadvantaged_value"),
        Indicator("other_pupils", "other_pupil_count", "Other pupils"),
        Indicator("other_numerator", "other_numerator", "Other pupils: numerator", dp=2),
        Indicator("other_denominator", "other_denominator", "Other pupils: denominator", dp=2),
        Indicator("other_value", "other_value", "Other pupils: figure", value_unit, dp, national="national_other_value"),
        Indicator("gap", "gap", "Disadvantage gap (other minus disadvantaged)", gap_unit, dp, national="national_gap"),
        Indicator("rolling_years", "rolling_years", "Years pooled in the rolling figures"),
        Indicator("rolling_disadvantaged_value", "rolling_disadvantaged_value", "Disadvantaged pupils: rolling figure",
                  value_unit, dp),
        Indicator("rolling_other_value", "rolling_other_value", "Other pupils: rolling figure", value_unit, dp),
        Indicator("rolling_gap", "rolling_gap", "Rolling disadvantage gap", gap_unit, dp),
        Indicator("gap_against_national", "gap_against_national", "Gap minus the national gap", gap_unit, dp),
    ]


def _trend_indicators(value_unit: str, gap_unit: str, _kind: str, dp: int) -> list[Indicator]:
    return [
        Indicator("first_time_period", "first_year", "First year of the trend window", "numberstring", 0),
        Indicator("years_in_window", "years_in_window", "Years with results in the window"),
        Indicator("first_gap", "first_gap", "Gap in the first year", gap_unit, dp),
        Indicator("last_gap", "last_gap", "Gap in the last year", gap_unit, dp),
        Indicator("gap_change", "gap_change", "Change in the gap (negative: narrowing)", gap_unit, dp,
                  national="national_gap_change"),
        Indicator("gap_change_lower_95", "gap_change_lower_95", "Change in the gap: lower 95% bound", gap_unit, dp),
        Indicator("gap_change_upper_95", "gap_change_upper_95", "Change in the gap: upper 95% bound", gap_unit, dp),
        Indicator("gap_change_per_year", "gap_change_per_year", "Trend in the gap per year", gap_unit, 2,
                  national="national_gap_change_per_year"),
        Indicator("gap_change_per_year_lower_95", "gap_change_per_year_lower_95", "Trend per year: lower 95% bound",
                  gap_unit, 2),
        Indicator("gap_change_per_year_upper_95", "gap_change_per_year_upper_95", "Trend per year: upper 95% bound",
                  gap_unit, 2),
        Indicator("trend", "trend", "Trend verdict", dp=0),
        Indicator("interval_basis", "interval_basis", "Interval deciding the verdict", dp=0),
        Indicator("compared_with_national", "compared_with_national", "Trend against the national trend", dp=0),
        # the figure's own trend over every pupil (an exclusion or NEET rate rising or falling)
        Indicator("first_value", "first_value", "Figure in the first year (every pupil)", value_unit, dp),
        Indicator("last_value", "last_value", "Figure in the last year (every pupil)", value_unit, dp),
        Indicator("value_change_per_year", "value_change_per_year", "Trend in the figure per year", gap_unit, 2),
        Indicator("value_change_per_year_lower_95", "value_change_per_year_lower_95",
                  "Trend in the figure: lower 95% bound", gap_unit, 2),
        Indicator("value_change_per_year_upper_95", "value_change_per_year_upper_95",
                  "Trend in the figure: upper 95% bound", gap_unit, 2),
        Indicator("value_trend", "value_trend", "Figure's trend verdict", dp=0),
        Indicator("value_interval_basis", "value_interval_basis", "Interval deciding the figure's verdict", dp=0),
    ]


def _outcome_indicators(value_unit: str, _gap_unit: str, kind: str, dp: int) -> list[Indicator]:
    value = {"percentage": ("percentage", "Percentage of pupils"), "rate": ("rate", "Rate (unit as the measure says)"),
             "average": ("average", "Average per pupil"), "count": ("number", "Number")}[kind]
    # one rates file holds absence, exclusion and post-16 rates: the labels name what each counts
    numerator = {"percentage": "Pupils meeting the measure",
                 "rate": "Events counted (sessions missed, exclusions or suspensions, months NEET or not known)",
                 "average": "Sum of pupils' results", "count": "Count"}[kind]
    denominator = {"percentage": "Pupils in the measure's population",
                   "rate": "Base of the rate (possible sessions, pupils on roll, months tracked)",
                   "average": "Pupils with a result", "count": "Count (denominator)"}[kind]
    return [
        Indicator("pupils", "pupil_count", "Pupils (enrolments, for attendance)"),
        Indicator("numerator", "numerator", numerator, dp=2 if kind == "average" else 0),
        Indicator("denominator", "denominator", denominator),
        Indicator("value", value[0], value[1], value_unit, dp),
    ]


TABLES = [
    OpenTable("learning_community_outcomes", "outcomes", [LC, MEASURE, BREAKDOWN, SUBGROUP], [], split_by_kind=True,
              extra={"indicators": _outcome_indicators}),
    OpenTable("learning_community_disadvantage_gaps", "disadvantage_gaps", [LC, MEASURE], [], split_by_kind=True,
              extra={"indicators": _gap_indicators}),
    OpenTable("learning_community_gap_trends", "gap_trends", [LC, MEASURE], [], split_by_kind=True,
              extra={"indicators": _trend_indicators}),
    OpenTable("learning_community_gap_index", "gap_index", [LC, STAGE], [
        Indicator("disadvantaged_pupils", "disadvantaged_pupil_count", "Disadvantaged pupils ranked"),
        Indicator("other_pupils", "other_pupil_count", "Other pupils ranked"),
        Indicator("disadvantaged_mean_percentile_rank", "disadvantaged_mean_rank", "Disadvantaged pupils: mean percentile rank",
                  dp=4),
        Indicator("other_mean_percentile_rank", "other_mean_rank", "Other pupils: mean percentile rank", dp=4),
        Indicator("gap_index", "gap_index", "Disadvantage gap index", dp=2, national="national_gap_index"),
        Indicator("subjects_ranked", "subjects_ranked", "Subjects ranked"),
    ]),
    OpenTable("learning_community_cohort_stages", "cohort_stages",
              [LC, Filter("reception_cohort", "Cohort", "The year the cohort started Reception", default=""),
               STAGE, Filter("subgroup", "Pupil group")], [
        Indicator("numerator", "pupils_at_expected", "Pupils at the expected standard"),
        Indicator("denominator", "pupils_assessed", "Pupils assessed"),
        Indicator("value", "percentage_at_expected", "Percentage at the expected standard", "%", 1),
    ], shape=_cohorts),
    OpenTable("learning_community_cohort_transitions", "cohort_transitions",
              [LC, Filter("reception_cohort", "Cohort", "The year the cohort started Reception", default=""),
               Filter("transition", "From one stage to the next", default=""), Filter("subgroup", "Pupil group")], [
        Indicator("pupils_tracked", "pupils_tracked", "Pupils assessed at both stages"),
        Indicator("below_expected_before", "below_expected_before", "Below the expected standard at the earlier stage"),
        Indicator("caught_up", "caught_up", "Of those, at the expected standard at the later stage"),
        Indicator("caught_up_percentage", "caught_up_percentage", "Percentage who caught up", "%", 1),
        Indicator("at_expected_before", "at_expected_before", "At the expected standard at the earlier stage"),
        Indicator("fell_behind", "fell_behind", "Of those, below the expected standard at the later stage"),
        Indicator("fell_behind_percentage", "fell_behind_percentage", "Percentage who fell behind", "%", 1),
        Indicator("stayed_in_community", "stayed_in_community", "Pupils still in the same learning community"),
        Indicator("stayed_in_community_percentage", "stayed_in_community_percentage",
                  "Percentage still in the same learning community", "%", 1),
    ], shape=_transitions),
    OpenTable("learning_community_data_quality", "data_quality",
              [LC, Filter("cohort", "Cohort or population checked", default=""),
               Filter("check_code", "Data-quality check", default="")], [
        Indicator("pupils", "pupils_found", "Pupils the check found"),
        Indicator("cohort_pupils", "cohort_pupil_count", "Pupils in the cohort"),
    ]),
]


@cache
def _regions() -> dict[str, tuple[str, str]]:
    """Region code and name of each authority (old LA code), from DfE's region-LA lookup."""
    with open(REFERENCE / "region_la_hierarchy.csv", newline="", encoding="utf-8") as f:
        return {r["old_la_code"]: (r["region_code"], r["region_name"]) for r in csv.DictReader(f)}


def write_open_data(building: Path, tables: dict[str, pl.DataFrame]) -> list[str]:
    """Every EES file pair of the publication, written under ``building/open_data``; their names."""
    folder = building / "open_data"
    folder.mkdir()
    measures = tables["measures"]
    written = []
    for spec in TABLES:
        if spec.table not in tables:
            continue
        frame = tables[spec.table]
        if spec.split_by_kind:
            kinds = measures.select("measure", "measure_type")
            frame = frame.drop("measure_type", strict=False).join(kinds, on="measure", how="left")
            for kind, (suffix, value_unit, gap_unit) in KINDS.items():
                part = frame.filter(pl.col("measure_type") == kind)
                if part.height == 0:
                    continue
                # one file per decimal places too (each indicator has one dp in the .meta.csv): the
                # measures' own places, from the measures seed (an exclusion rate to 2, absence to 1)
                places = _places(measures, kind)
                for dp in places:
                    name = f"{spec.file}_{suffix}" if len(places) == 1 else f"{spec.file}_{suffix}_{dp}dp"
                    at = part.filter(pl.col("measure").is_in(_measures_at(measures, kind, dp)))
                    if at.height == 0:
                        continue
                    indicators = spec.extra["indicators"](value_unit, gap_unit, kind, dp)
                    written += _write_pair(folder, name, _measure_filters(at, measures), spec.filters, indicators)
        else:
            shaped = spec.shape(frame, measures) if spec.shape else frame
            written += _write_pair(folder, spec.file, shaped, spec.filters, spec.indicators)
    return written


def _places(measures: pl.DataFrame, kind: str) -> list[int]:
    """The decimal places the measures of one kind are published to (measures seed), fewest first."""
    return sorted(measures.filter(pl.col("measure_type") == kind)["decimals"].unique().to_list())


def _measures_at(measures: pl.DataFrame, kind: str, dp: int) -> list[str]:
    return measures.filter((pl.col("measure_type") == kind) & (pl.col("decimals") == dp))["measure"].to_list()


def ees_frame(frame: pl.DataFrame, filters: list[Filter], indicators: list[Indicator]) -> pl.DataFrame:
    """One table in the EES layout: geography, then filters, then indicators (text, symbols where absent)."""
    regions = _regions()
    is_lc = pl.col("geographic_level") == LEARNING_COMMUNITY
    region = pl.col("old_la_code").cast(pl.String).replace_strict(
        {k: v[0] for k, v in regions.items()}, default=NOT_AVAILABLE)
    region_name = pl.col("old_la_code").cast(pl.String).replace_strict(
        {k: v[1] for k, v in regions.items()}, default="Not available")
    lc_item = pl.coalesce("learning_community_name", "learning_community_code")
    local = frame.with_columns(
        geographic_level=pl.lit(LOCAL_AUTHORITY),
        learning_community=pl.when(is_lc).then(lc_item).otherwise(pl.lit(TOTAL)),
        region_code=region, region_name=region_name,
        old_la_code=pl.col("old_la_code").cast(pl.String), new_la_code=pl.col("new_la_code").fill_null(""))
    figures = [i.source for i in indicators]
    filter_names = [f.name for f in filters if f.name != "learning_community"]
    national_rows = _national(local, filters, indicators)
    # indicators as text with their symbols; names neutralised before numbers become text
    local = neutralise_frame(local.select(*GEOGRAPHY, "learning_community", *filter_names,
                                          *[c for s in figures for c in (s, status_column(s)) if c in local.columns]))
    local = as_symbols(local)
    local = local.with_columns(pl.col(s).cast(pl.String).fill_null(NOT_AVAILABLE) for s in figures)
    out = pl.concat([national_rows, local.select(national_rows.columns)], how="vertical_relaxed") \
        if national_rows is not None else local
    out = _one_time_identifier(out)
    rename = {i.source: i.name for i in indicators}
    out = out.rename(rename)
    period = ["period_covered"] if "period_covered" in out.columns else []
    return out.select(*GEOGRAPHY, "learning_community", *period, *filter_names, *[i.name for i in indicators]).with_columns(
        pl.col(c).cast(pl.String).str.slice(0, ITEM_LIMIT) for c in ["learning_community", *filter_names])


def _national(local: pl.DataFrame, filters: list[Filter], indicators: list[Indicator]) -> pl.DataFrame | None:
    """England's figures, kept by the marts beside each authority row, as National rows."""
    shown = [i for i in indicators if i.national and i.national in local.columns]
    if not shown:
        return None
    keys = ["time_period", "time_identifier", *[f.name for f in filters if f.name != "learning_community"]]
    rows = (local.filter(pl.col("learning_community") == TOTAL)
            .group_by(keys, maintain_order=True).agg(pl.col(i.national).drop_nulls().first() for i in shown)
            .filter(pl.any_horizontal(pl.col(i.national).is_not_null() for i in shown)))
    if rows.height == 0:
        return None
    text = {i.source: pl.col(i.national).round(i.dp or 0).cast(pl.String).fill_null(NOT_AVAILABLE) for i in shown}
    return rows.select(
        "time_period", "time_identifier", geographic_level=pl.lit(NATIONAL), country_code=pl.lit(ENGLAND[0]),
        country_name=pl.lit(ENGLAND[1]), region_code=pl.lit(None, pl.String), region_name=pl.lit(None, pl.String),
        old_la_code=pl.lit(None, pl.String), new_la_code=pl.lit(None, pl.String), la_name=pl.lit(None, pl.String),
        learning_community=pl.lit(TOTAL), **{k: pl.col(k) for k in keys[2:]},
        **{i.source: text.get(i.source, pl.lit(NOT_AVAILABLE)) for i in indicators})


def _one_time_identifier(frame: pl.DataFrame) -> pl.DataFrame:
    """EES allows one kind of time identifier per file: part-year rows (attendance from the autumn and
    spring terms only) stay under their academic year, told apart by the filter ``period_covered``."""
    ids = frame["time_identifier"].unique().to_list()
    if len(ids) <= 1:
        return frame
    return frame.with_columns(
        period_covered=pl.when(pl.col("time_identifier") == ACADEMIC_YEAR).then(pl.lit(TOTAL))
        .otherwise(pl.col("time_identifier")), time_identifier=pl.lit(ACADEMIC_YEAR))


def ees_meta(data: pl.DataFrame, filters: list[Filter], indicators: list[Indicator]) -> pl.DataFrame:
    """The ``.meta.csv``: one row per filter (with two or more items) and per indicator."""
    rows = []
    if "period_covered" in data.columns:
        filters = [*filters, Filter("period_covered", "Period covered",
                                    "Total is the full academic year; otherwise the terms held")]
    for f in filters:
        items = data[f.name].unique()
        if items.len() < 2:
            continue
        default = f.default or data[f.name][0]
        if default not in items.to_list():
            default = data[f.name][0]
        rows.append({"col_name": f.name, "col_type": "Filter", "label": f.label[:LABEL_LIMIT], "indicator_grouping": "",
                     "indicator_unit": "", "indicator_dp": "", "filter_hint": f.hint,
                     "filter_grouping_column": f.group if f.group in data.columns else "",
                     "filter_default": default})
    for i in indicators:
        rows.append({"col_name": i.name, "col_type": "Indicator", "label": i.label[:LABEL_LIMIT], "indicator_grouping": "",
                     "indicator_unit": i.unit, "indicator_dp": "" if i.dp is None else str(i.dp), "filter_hint": "",
                     "filter_grouping_column": "", "filter_default": ""})
    return pl.DataFrame(rows, schema=dict.fromkeys(META_COLUMNS, pl.String))


def _write_pair(folder: Path, name: str, frame: pl.DataFrame, filters: list[Filter], indicators: list[Indicator]) -> list[str]:
    indicators = [i for i in indicators if i.source in frame.columns]
    for words in ("stage", "cohort"):
        if words in frame.columns:
            frame = frame.with_columns(_stage_words(pl.col(words)).alias(words))
    data = ees_frame(frame, filters, indicators)
    meta = ees_meta(data, filters, indicators)
    # filters with a single item are left out (EES: filter_not_singular), and so are their columns
    keep = set(meta["col_name"])
    data = data.drop([f.name for f in filters if f.name not in keep and f.name in data.columns])
    data.write_csv(folder / f"{name}.csv", null_value="")
    meta.write_csv(folder / f"{name}.meta.csv", null_value="")
    return [f"{name}.csv", f"{name}.meta.csv"]
