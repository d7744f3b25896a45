"""What each page shows, built from one source of the publication (a community's extract, or the
whole publication for authority analysts). Pure: figures in, page content (rows, charts) out.
A page's content depends only on the publication and its parameters, so it is built once per
publication and cached by the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from markupsafe import Markup

from config.labels import DISADVANTAGE_BREAKDOWN, DISADVANTAGED, NOT_DISADVANTAGED, TOTAL
from scorecard import charts
from scorecard.charts import Series
from scorecard.intervals import gap_interval
from scorecard.publication import (
    NOT_APPLICABLE,
    Figure,
    GapRow,
    IndexRow,
    Measure,
    Source,
    TrendRow,
    year_label,
)

# The headline of each stage on the overview (docs/methodology.md#the-scorecard).
HEADLINE = ("eyfs_good_level_of_development", "phonics_y1_met", "ks1_rwm_expected", "ks2_rwm_expected",
            "ks4_basics_grade_4", "ks4_basics_grade_5", "ks4_attainment_8", "persistent_absence")
ATTENDANCE = ("overall_absence_rate", "authorised_absence_rate", "unauthorised_absence_rate", "persistent_absence",
              "severe_absence")
ATTENDANCE_CHARTED = ("overall_absence_rate", "persistent_absence", "severe_absence")
CONTEXT = ("disadvantaged_pupils", "fsm_eligible_pupils", "sen_support_pupils", "ehc_plan_pupils", "eal_pupils",
           "arrived_after_autumn_census", "moved_school_in_year")
SEN_NEED = "SEN primary need"
NO_NEED = ("No SEN", "Unclassified")
SEN_NEEDS = {  # DfE school census primary need codes
    "ASD": "Autistic spectrum disorder", "HI": "Hearing impairment", "MLD": "Moderate learning difficulty",
    "MSI": "Multi-sensory impairment", "NSA": "SEN support but no specialist assessment of type of need",
    "OTH": "Other difficulty or disability", "PD": "Physical disability", "PMLD": "Profound and multiple learning difficulty",
    "SEMH": "Social, emotional and mental health", "SLCN": "Speech, language and communication needs",
    "SLD": "Severe learning difficulty", "SPLD": "Specific learning difficulty", "VI": "Visual impairment",
}
STAGE_LABELS = {"eyfs": "EYFS", "phonics": "Phonics", "ks1": "KS1", "ks2": "KS2", "ks4": "KS4", "age17": "Age 17 (EET)",
                "attendance": "Attendance", "census": "Context"}
ENGLAND = "England"


@dataclass(frozen=True)
class Interval:
    lower: float
    upper: float


@dataclass(frozen=True)
class Chart:
    svg: Markup
    legend: Markup


def label(m: Measure | None, code: str) -> str:
    return m.label if m else code


def _has_result(g: GapRow) -> bool:
    return not (g.disadvantaged.value.status == NOT_APPLICABLE and g.other.value.status == NOT_APPLICABLE
                and g.gap.status == NOT_APPLICABLE)


def gap_ci(g: GapRow, m: Measure | None) -> Interval | None:
    """95% interval of one year's gap (percentage measures; docs/methodology.md#gap-interval-for-one-year)."""
    if m is None or m.measure_type != "percentage" or not g.gap.shown:
        return None
    ci = gap_interval(g.other.numerator.number, g.other.denominator.number, g.disadvantaged.numerator.number,
                      g.disadvantaged.denominator.number, lower_is_better=m.higher_is_better is False)
    return Interval(*ci) if ci else None


def is_small(g: GapRow, small_group: int) -> bool:
    pupils = [g.disadvantaged.pupils.number, g.other.pupils.number]
    return not g.gap.shown or any(p is not None and p < small_group for p in pupils)


@dataclass(frozen=True)
class HeadlineRow:
    measure: Measure
    year: str | None
    row: GapRow | None
    interval: Interval | None
    borough: GapRow | None
    trend: TrendRow | None
    small: bool
    rolling_label: str | None


def _area_rows(rows, geo: str | None, la_code: str) -> list:
    return [r for r in rows if r.geo == geo and (geo is not None or r.la_code == la_code)]


def headlines(src: Source, geo: str | None, la_code: str, small_group: int) -> list[HeadlineRow]:
    """Each stage's headline for one area (a community, or the authority when ``geo`` is None)."""
    measures = src.measures()
    codes = tuple(m for m in HEADLINE if m in measures)
    gaps = src.gaps(codes)
    trends = {t.measure: t for t in _area_rows(src.gap_trends(codes), geo, la_code)}
    years = {y.time_period: y.label for y in src.years()}
    out = []
    for code in codes:
        mine = [g for g in _area_rows(gaps, geo, la_code) if g.measure == code and _has_result(g)]
        m = measures[code]
        if not mine:
            out.append(HeadlineRow(m, None, None, None, None, trends.get(code), False, None))
            continue
        g = mine[-1]
        borough = next((b for b in gaps if b.measure == code and b.geo is None and b.la_code == g.la_code
                        and b.time_period == g.time_period), None) if geo is not None else None
        rolling = None
        if g.rolling_years:
            first = _nth_year_back(years, g.time_period, g.rolling_years, m, src)
            rolling = f"{first} to {years.get(g.time_period, year_label(g.time_period))}" if first else None
        out.append(HeadlineRow(m, years.get(g.time_period, year_label(g.time_period)), g, gap_ci(g, m), borough,
                               trends.get(code), is_small(g, small_group), rolling))
    return out


def _nth_year_back(years: dict[int, str], last: int, n: int, m: Measure, src: Source) -> str | None:
    """The first academic year of a rolling pool of ``n`` years with results ending at ``last``."""
    with_results = [y.time_period for y in src.years() if y.had_national_assessments or m.stage in ("attendance", "census")]
    with_results = [t for t in with_results if t <= last]
    if len(with_results) < n:
        return years.get(with_results[0]) if with_results else None
    return years.get(with_results[-n])


# --- gaps ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GapYear:
    year: str
    row: GapRow | None
    interval: Interval | None
    borough: GapRow | None
    england: Figure | None


@dataclass(frozen=True)
class GapChart:
    measure: Measure
    chart: Chart
    years: list[GapYear]
    unit: str
    trend: TrendRow | None


def gap_chart(src: Source, geo: str | None, la_code: str, area_name: str, la_name: str, code: str) -> GapChart | None:
    measures = src.measures()
    m = measures.get(code)
    if m is None:
        return None
    gaps = src.gaps((code,))
    mine = {g.time_period: g for g in _area_rows(gaps, geo, la_code) if _has_result(g)}
    if not mine:
        return None
    borough = {g.time_period: g for g in gaps if g.geo is None and g.la_code == la_code}
    years = src.years()
    rows: list[GapYear] = []
    for y in years:
        g = mine.get(y.time_period)
        b = borough.get(y.time_period) if geo is not None else None
        england = (g or b).national_gap if (g or b) else None
        rows.append(GapYear(y.label, g, gap_ci(g, m) if g else None, b, england))
    first = next(i for i, r in enumerate(rows) if r.row is not None)
    rows = rows[first:]
    unit = (mine[next(iter(mine))].gap_unit or "percentage points") if mine else "percentage points"
    series = [Series(area_name, [r.row.gap.number if r.row else None for r in rows], 0,
                     [r.interval.lower if r.interval else None for r in rows],
                     [r.interval.upper if r.interval else None for r in rows])]
    if geo is not None:
        series.append(Series(la_name, [r.borough.gap.number if r.borough else None for r in rows], 1))
    if any(r.england is not None and r.england.number is not None for r in rows):
        series.append(Series(ENGLAND, [r.england.number if r.england else None for r in rows], 2))
    shown = [(r.year, r.row.gap.number) for r in rows if r.row and r.row.gap.number is not None]
    trend = next((t for t in _area_rows(src.gap_trends((code,)), geo, la_code)), None)
    desc = (f"Gap between disadvantaged and other pupils in {unit}, {area_name}: "
            + (f"{shown[0][1]:g} in {shown[0][0]} and {shown[-1][1]:g} in {shown[-1][0]}." if shown else "every year withheld.")
            + (f" Trend: {trend.trend.value}." if trend and trend.trend.shown else "")
            + " Positive means disadvantaged pupils are behind.")
    svg = charts.line_chart(f"{m.label}: disadvantage gap, {area_name}", desc, [r.year for r in rows], series,
                            f"Gap ({unit})")
    return GapChart(m, Chart(svg, charts.legend(series)), rows, unit, trend)


def trend_rows(src: Source, geo: str | None, la_code: str) -> list[tuple[Measure, TrendRow]]:
    measures = src.measures()
    rows = [(measures.get(t.measure), t) for t in _area_rows(src.gap_trends(), geo, la_code)]
    return sorted(((m, t) for m, t in rows if m), key=lambda mt: (mt[0].stage_order, mt[0].code))


def gap_measures(src: Source) -> list[Measure]:
    """Measures with a disadvantage gap (context measures have none)."""
    codes = {g.measure for g in src.gaps()}
    return [m for m in src.measures().values() if m.code in codes]


@dataclass(frozen=True)
class IndexYear:
    year: str
    row: IndexRow | None
    borough: IndexRow | None
    national: Figure | None


@dataclass(frozen=True)
class IndexChart:
    stage: str
    chart: Chart
    years: list[IndexYear]


def gap_index_charts(src: Source, geo: str | None, la_code: str, area_name: str, la_name: str) -> list[IndexChart]:
    rows = src.gap_index()
    years = {y.time_period: y.label for y in src.years()}
    out = []
    for stage in sorted({r.stage for r in rows}, key=lambda s: list(STAGE_LABELS).index(s) if s in STAGE_LABELS else 99):
        mine = {r.time_period: r for r in _area_rows(rows, geo, la_code) if r.stage == stage}
        borough = {r.time_period: r for r in rows if r.stage == stage and r.geo is None and r.la_code == la_code}
        periods = sorted(set(mine) | (set(borough) if geo is None else set()))
        if not periods:
            continue
        ys = [IndexYear(years.get(t, year_label(t)), mine.get(t), borough.get(t) if geo is not None else None,
                        (mine.get(t) or borough.get(t)).national_gap_index if (mine.get(t) or borough.get(t)) else None)
              for t in periods]
        series = [Series(area_name, [y.row.gap_index.number if y.row else None for y in ys], 0)]
        if geo is not None:
            series.append(Series(la_name, [y.borough.gap_index.number if y.borough else None for y in ys], 1))
        series.append(Series(f"{ENGLAND} (national ranking)", [y.national.number if y.national else None for y in ys], 2))
        name = STAGE_LABELS.get(stage, stage)
        svg = charts.line_chart(f"{name} disadvantage gap index, {area_name}",
                                f"Gap index from -10 to 10 by year for {area_name}; 0 means no gap.",
                                [y.year for y in ys], series, "Gap index")
        out.append(IndexChart(name, Chart(svg, charts.legend(series)), ys))
    return out


# --- cohorts ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StageCells:
    stage: str
    year: str
    mine: dict[str, object]
    borough: dict[str, object]


def cohort_choices(src: Source) -> list[tuple[int, str]]:
    out = []
    for ry, stages in sorted(src.cohort_years(), key=lambda x: -x[0]):
        if stages >= 2:
            out.append((ry, f"Started Reception in {year_label(ry * 100 + (ry + 1) % 100)} ({stages} stages)"))
    return out


def default_cohort(src: Source) -> int | None:
    years = [ry for ry, stages in src.cohort_years() if stages >= 2]
    return years[0] if years else None


def cohort(src: Source, geo: str | None, la_code: str, area_name: str, la_name: str, reception_year: int) -> dict:
    rows = src.cohort_stages(reception_year)
    mine = [r for r in rows if r.geo == geo]
    borough = [r for r in rows if r.geo is None and r.la_code == la_code]
    stages = sorted({(r.stage_order, r.stage, r.time_period) for r in mine + borough})
    table = []
    for _order, stage, tp in stages:
        cells = {sg: next((r for r in mine if r.stage == stage and r.subgroup == sg), None)
                 for sg in (DISADVANTAGED, NOT_DISADVANTAGED, TOTAL)}
        bcells = {sg: next((r for r in borough if r.stage == stage and r.subgroup == sg), None)
                  for sg in (DISADVANTAGED, NOT_DISADVANTAGED, TOTAL)}
        table.append(StageCells(STAGE_LABELS.get(stage, stage), year_label(tp), cells, bcells))
    x = [s.stage for s in table]

    def values(which: str, sg: str) -> list[float | None]:
        return [(getattr(s, which)[sg].value.number if getattr(s, which)[sg] else None) for s in table]

    series = [Series(f"{area_name}: disadvantaged", values("mine", DISADVANTAGED), 0),
              Series(f"{area_name}: other pupils", values("mine", NOT_DISADVANTAGED), 3)]
    if geo is not None:
        series += [Series(f"{la_name}: disadvantaged", values("borough", DISADVANTAGED), 1),
                   Series(f"{la_name}: other pupils", values("borough", NOT_DISADVANTAGED), 2)]
    ry_label = year_label(reception_year * 100 + (reception_year + 1) % 100)
    svg = charts.line_chart(f"Pupils who started Reception in {ry_label}: at the expected standard, stage by stage",
                            f"Percentage at each stage's headline standard for disadvantaged and other pupils of this cohort "
                            f"in {area_name}" + (f" and {la_name}" if geo is not None else "") + ".",
                            x, series, "% at the expected standard", y_range=(0, 100))
    order = [DISADVANTAGED, NOT_DISADVANTAGED, TOTAL]
    transitions = sorted((t for t in src.cohort_transitions(reception_year) if t.geo == geo),
                         key=lambda t: (t.from_order, t.to_order, order.index(t.subgroup) if t.subgroup in order else 9))
    # the chart follows each stage to the next one this cohort had; the table has every pair
    nearest = {}
    for t in transitions:
        key = (t.from_stage, t.subgroup)
        if key not in nearest or t.to_order < nearest[key].to_order:
            nearest[key] = t
    steps = sorted(nearest.values(), key=lambda t: (t.from_order, order.index(t.subgroup) if t.subgroup in order else 9))
    cats = [f"{STAGE_LABELS.get(t.from_stage, t.from_stage)} to {STAGE_LABELS.get(t.to_stage, t.to_stage)}: "
            f"{'other' if t.subgroup == NOT_DISADVANTAGED else t.subgroup.lower()}" for t in steps]
    tseries = [Series("Caught up (% of those below the standard before)", [t.caught_up_percentage.number for t in steps], 0),
               Series("Fell behind (% of those at the standard before)", [t.fell_behind_percentage.number for t in steps], 1)]
    tchart = (Chart(charts.bar_chart(f"Caught up and fell behind, stage to stage, {area_name}",
                                     "For each stage and the next, the percentage of pupils below the standard who caught up, "
                                     "and of pupils at it who fell behind.", cats, tseries, "% of pupils"),
                    charts.legend(tseries)) if steps else None)
    return {"stages": table, "chart": Chart(svg, charts.legend(series)), "transitions": transitions,
            "transition_chart": tchart, "reception_label": ry_label}


# --- schools ------------------------------------------------------------------------------------------

def schools(src: Source, geo: str | None) -> dict:
    labels = {code: m.label for code, m in src.measures().items()}
    codes = re.compile(r"\b(" + "|".join(sorted(map(re.escape, labels), key=len, reverse=True)) + r")\b") if labels else None
    rows = [r for r in src.school_categories() if geo is None or r.geo == geo]
    if codes:  # the reasons name measures by code: say them in words
        rows = [replace(r, reasons=tuple(codes.sub(lambda m: labels[m.group(1)], x) for x in r.reasons)) for r in rows]
    periods = sorted({r.time_period for r in rows})
    latest = periods[-1] if periods else None
    names = sorted({(r.phase or "", r.name) for r in rows})
    grid = {(r.name, r.time_period): r for r in rows}
    return {"periods": [(t, year_label(t)) for t in periods], "latest": latest, "rows": rows, "grid": grid,
            "schools": names}


# --- attendance and context --------------------------------------------------------------------------

def attendance(src: Source, geo: str | None, la_code: str, area_name: str, la_name: str) -> dict:
    measures = src.measures()
    codes = tuple(c for c in ATTENDANCE if c in measures)
    rows = src.outcomes(codes, (TOTAL, DISADVANTAGE_BREAKDOWN))
    national = {(b.time_period, b.measure): b.value for b in src.national(codes) if b.subgroup == TOTAL}
    years = {y.time_period: y.label for y in src.years()}
    mine = [r for r in rows if r.geo == geo and (geo is not None or r.la_code == la_code)]
    borough = [r for r in rows if r.geo is None and r.la_code == la_code]
    periods = sorted({r.time_period for r in mine})
    charts_out = []
    for code in ATTENDANCE_CHARTED:
        if code not in measures:
            continue
        table = []
        for t in periods:
            cell = {sg: next((r.value for r in mine if r.time_period == t and r.measure == code and r.subgroup == sg), None)
                    for sg in (TOTAL, DISADVANTAGED, NOT_DISADVANTAGED)}
            b = next((r.value for r in borough if r.time_period == t and r.measure == code and r.subgroup == TOTAL), None)
            table.append((years.get(t, year_label(t)), cell, b if geo is not None else None, national.get((t, code))))
        series = [Series(f"{area_name}: all pupils", [c[TOTAL].number if c[TOTAL] else None for _, c, _, _ in table], 0),
                  Series(f"{area_name}: disadvantaged", [c[DISADVANTAGED].number if c[DISADVANTAGED] else None
                                                         for _, c, _, _ in table], 3)]
        if geo is not None:
            series.append(Series(f"{la_name}: all pupils", [b.number if b else None for _, _, b, _ in table], 1))
        if any(n is not None for *_, n in table):
            series.append(Series(f"{ENGLAND}: all pupils", [n.number if n else None for *_, n in table], 2))
        m = measures[code]
        svg = charts.line_chart(f"{m.label}, {area_name}", f"{m.label} by year ({m.unit}) for {area_name}, all pupils and "
                                "disadvantaged pupils" + (f", beside {la_name}" if geo is not None else "") + ".",
                                [y for y, *_ in table], series, m.unit or "%")
        charts_out.append({"measure": m, "chart": Chart(svg, charts.legend(series)), "table": table,
                           "england_held": any(n is not None for *_, n in table)})
    latest = periods[-1] if periods else None
    summary = []
    for code in codes:
        cell = {sg: next((r.value for r in mine if r.time_period == latest and r.measure == code and r.subgroup == sg), None)
                for sg in (TOTAL, DISADVANTAGED, NOT_DISADVANTAGED)}
        b = next((r.value for r in borough if r.time_period == latest and r.measure == code and r.subgroup == TOTAL), None)
        summary.append((measures[code], cell, b if geo is not None else None, national.get((latest, code))))
    return {"charts": charts_out, "summary": summary, "latest": years.get(latest) if latest else None}


def context(src: Source, geo: str | None, la_code: str) -> dict:
    measures = src.measures()
    codes = tuple(c for c in CONTEXT if c in measures)
    rows = src.outcomes(codes, (TOTAL,))
    years = {y.time_period: y.label for y in src.years()}
    mine = [r for r in rows if r.geo == geo and (geo is not None or r.la_code == la_code)]
    borough = {(r.time_period, r.measure): r.value for r in rows if r.geo is None and r.la_code == la_code}
    periods = sorted({r.time_period for r in mine})[-5:]
    table = []
    for code in codes:
        cells = [next((r.value for r in mine if r.time_period == t and r.measure == code), None) for t in periods]
        table.append((measures[code], cells, borough.get((periods[-1], code)) if periods and geo is not None else None))
    # SEN need mix: pupils on roll by primary need, latest year
    latest = periods[-1] if periods else None
    need_rows = src.outcomes(("pupils_on_roll",), (SEN_NEED,), latest) if latest else []
    need_mine = [r for r in need_rows if r.geo == geo and (geo is not None or r.la_code == la_code)
                 and r.subgroup not in NO_NEED]
    need_borough = {r.subgroup: r for r in need_rows if r.geo is None and r.la_code == la_code and r.subgroup not in NO_NEED}

    def share(rows_, sub):
        total = sum(r.value.number for r in rows_ if r.value.number is not None)
        r = next((x for x in rows_ if x.subgroup == sub), None)
        if r is None or r.value.number is None or not total:
            return r.value if r else None, None
        return r.value, 100 * r.value.number / total

    needs = []
    for r in sorted(need_mine, key=lambda r: -(r.value.number or 0)):
        count, pct = share(need_mine, r.subgroup)
        _, bpct = share(list(need_borough.values()), r.subgroup)
        needs.append((r.subgroup, count, pct, bpct))
    return {"periods": [years.get(t, year_label(t)) for t in periods], "table": table, "needs": needs,
            "latest": years.get(latest) if latest else None, "any_withheld_need": any(c is not None and not c.shown
                                                                                      for _, c, _, _ in needs)}


# --- analysts: communities side by side ---------------------------------------------------------

def periods(src: Source, code: str) -> list[int]:
    """The years with results for a measure."""
    return sorted({g.time_period for g in src.gaps((code,)) if _has_result(g)})


def compare(src: Source, code: str, time_period: int | None, la_code: str, small_group: int) -> dict:
    measures = src.measures()
    m = measures[code]
    gaps = src.gaps((code,))
    periods_ = periods(src, code)
    if time_period not in periods_:
        time_period = periods_[-1] if periods_ else None
    rows = [g for g in gaps if g.time_period == time_period]
    communities = {c.code: c for c in src.communities()}
    trends = {(t.geo, t.la_code): t for t in src.gap_trends((code,))}
    table = []
    for g in sorted(rows, key=lambda g: (g.geo is None, g.la_code, g.geo or "")):
        if g.geo is not None and g.geo not in communities:
            continue
        table.append({"row": g, "interval": gap_ci(g, m), "trend": trends.get((g.geo, g.la_code)),
                      "small": is_small(g, small_group), "name": g.geo_name})
    lcs = [t for t in table if t["row"].geo is not None]
    series = [Series("Gap", [t["row"].gap.number for t in lcs], 0,
                     [t["interval"].lower if t["interval"] else None for t in lcs],
                     [t["interval"].upper if t["interval"] else None for t in lcs])]
    chart = None
    if lcs:
        chart = Chart(charts.bar_chart(f"{m.label}: disadvantage gap by learning community, "
                                       f"{year_label(time_period)}",
                                       "Each learning community's gap between disadvantaged and other pupils, with its 95% "
                                       "interval where one can be computed; positive means disadvantaged pupils are behind.",
                                       [t["name"] for t in lcs], series, f"Gap ({lcs[0]['row'].gap_unit or 'points'})"),
                      charts.legend(series, "lines: 95% interval"))
    national = next((t["row"].national_gap for t in table if t["row"].national_gap.shown), None)
    return {"measure": m, "time_period": time_period, "periods": [(t, year_label(t)) for t in periods_], "table": table,
            "chart": chart, "national": national}


def verdict_matrix(src: Source) -> dict:
    measures = src.measures()
    codes = [c for c in HEADLINE if c in measures]
    trends = src.gap_trends(tuple(codes))
    shown = [c for c in codes if any(t.measure == c for t in trends)]
    by = {(t.geo, t.la_code, t.measure): t for t in trends}
    areas = [(c.code, c.name, c.la_code) for c in src.communities()]
    areas += [(None, name, la) for la, name in sorted(src.authorities().items())]
    return {"measures": [measures[c] for c in shown], "areas": areas, "cells": by}


def school_summary(src: Source) -> dict:
    rows = src.school_categories()
    periods = sorted({r.time_period for r in rows})
    latest = periods[-1] if periods else None
    counts: dict[str | None, dict[str, int]] = {}
    for r in rows:
        if r.time_period == latest:
            counts.setdefault(r.geo, {}).setdefault(r.category or "", 0)
            counts[r.geo][r.category or ""] += 1
    return {"latest": year_label(latest) if latest else None, "counts": counts}
