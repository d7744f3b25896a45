"""Everything the scorecard reads from the publication, in one place.

The scorecard reads only ``<data_dir>/published/current``, read-only. A request resolves that
link once (``Publications.current()``) and reads everything from the folder it named, so a
publication swapped in mid-request is seen by the next request, never half by this one, and a
new publication is picked up without a restart.

Figures come back as ``Figure`` values: a number (or text) that can be shown, or the reason it
is not shown. The publication stores numbers as numbers, a figure that is not shown as NULL with
its EES symbol in ``<figure>_status`` (``c`` withheld, ``z`` not applicable;
docs/methodology.md#published-figures); older publications held text with the symbols in the
cell. ``figure()`` and ``_companion()`` read both.

Isolation: a group member's data is read from their own community's extract
(``by_learning_community/<LC>.duckdb``) and nothing else. ``Publication.community()`` opens an
extract only for an account that may see that community, with the community's code taken from
the publication's own list of extracts; ``Publication.whole()`` (every community) only for an
authority analyst. A page cannot reach another community's rows by forgetting a WHERE clause,
because the file it reads does not hold them.
"""

from __future__ import annotations

import io
import json
import os
import re
import threading
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import duckdb

from config.labels import LEARNING_COMMUNITY, LOCAL_AUTHORITY, TOTAL

LONDON = ZoneInfo("Europe/London")
MAX_OPEN_SOURCES = 128  # open DuckDB files per publication (each community's extract is one)
CODE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")

SHOWN = "shown"
WITHHELD = "withheld"
NOT_APPLICABLE = "not applicable"
NOT_AVAILABLE = "not available"
LOW_RELIABILITY = "low reliability"

# The EES symbols a published figure may carry instead of a number (docs/methodology.md#ees-symbols).
SYMBOLS = {"c": WITHHELD, "z": NOT_APPLICABLE, "x": NOT_AVAILABLE, "u": LOW_RELIABILITY}
# Where a figure's reason may be published beside it (a NULL figure plus its reason).
_COMPANION_SUFFIXES = ("_reason", "_status", "_symbol")


class NoPublication(Exception):
    """There is no current publication (nothing published yet, or it is unreadable)."""


class NotPermitted(Exception):
    """The account may not read this part of the publication."""


class Reader(Protocol):
    """Who is reading: an authority analyst reads everything, a group member their communities."""

    @property
    def is_analyst(self) -> bool: ...

    @property
    def communities(self) -> frozenset[str]: ...


@dataclass(frozen=True, slots=True)
class Figure:
    """One published figure: ``value`` when it can be shown, else ``status`` and ``reason``."""

    value: float | str | None
    status: str = SHOWN
    reason: str | None = None
    decimals: int | None = None  # the measure's decimal places, for a figure shown to them

    @property
    def shown(self) -> bool:
        return self.status == SHOWN and self.value is not None

    @property
    def number(self) -> float | None:
        return self.value if self.shown and isinstance(self.value, float) else None


NO_NATIONAL = Figure(None, NOT_AVAILABLE, "No England figure is held for this measure and year.")


def figure(raw: Any, companion: Any = None, *, withheld_reason: str | None = None) -> Figure:
    """A published cell as a ``Figure``: numbers (stored as numbers or as text), the EES symbols,
    or NULL with its reason in a companion column."""
    if raw is None:
        if companion is None:
            return Figure(None, NOT_AVAILABLE, "No figure is published for this group and year.")
        status = SYMBOLS.get(str(companion).strip().lower())
        return Figure(None, status or WITHHELD, _reason(status or WITHHELD, withheld_reason, str(companion)))
    if isinstance(raw, bool):
        return Figure(raw)
    if isinstance(raw, int | float):
        return Figure(float(raw))
    text = str(raw).strip()
    status = SYMBOLS.get(text.lower())
    if status:
        return Figure(None, status, _reason(status, withheld_reason))
    if text.lower() == "low":  # rounds to zero but is not zero
        return Figure("low")
    try:
        return Figure(float(text))
    except ValueError:
        return Figure(text)


def _reason(status: str, withheld_reason: str | None, published: str | None = None) -> str:
    if published and published.lower() not in SYMBOLS:
        return published
    return {
        WITHHELD: withheld_reason or "Withheld to protect pupils' confidentiality (small numbers).",
        NOT_APPLICABLE: "Not applicable: no pupils in this group, or no result that year.",
        NOT_AVAILABLE: "Not available in this publication.",
        LOW_RELIABILITY: "Not shown: the figure is of low reliability.",
    }[status]


def _withheld_reason(manifest: dict) -> str:
    rules = manifest.get("suppression") or {}
    threshold, min_count = rules.get("threshold"), rules.get("min_count")
    if threshold is None:
        return "Withheld to protect pupils' confidentiality (small numbers)."
    counts = f", or counts {min_count - 1} or fewer pupils (or all but that many)" if min_count and min_count > 1 else ""
    return (f"Withheld to protect pupils' confidentiality: it rests on {threshold} or fewer pupils{counts}, "
            "or it would let another withheld figure be worked out.")


# --- what the pages read ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Measure:
    code: str
    label: str
    stage: str
    stage_order: int
    measure_type: str
    higher_is_better: bool | None
    unit: str
    decimals: int | None = None  # places its values are published to (measures.decimals)


@dataclass(frozen=True, slots=True)
class Year:
    time_period: int
    label: str
    had_national_assessments: bool


@dataclass(frozen=True, slots=True)
class Community:
    code: str
    name: str
    la_code: str
    collaborative: str | None
    schools: int | None


@dataclass(frozen=True, slots=True)
class Group:
    value: Figure
    numerator: Figure
    denominator: Figure
    pupils: Figure


@dataclass(frozen=True, slots=True)
class GapRow:
    time_period: int
    geo: str | None  # learning community code; None = the authority
    geo_name: str
    la_code: str
    measure: str
    disadvantaged: Group
    other: Group
    gap: Figure
    gap_unit: str | None
    rolling_years: int | None
    rolling_disadvantaged: Group
    rolling_other: Group
    rolling_gap: Figure
    national_disadvantaged: Figure
    national_other: Figure
    national_gap: Figure
    gap_against_national: Figure


@dataclass(frozen=True, slots=True)
class TrendRow:
    geo: str | None
    geo_name: str
    la_code: str
    measure: str
    first_time_period: int
    last_time_period: int
    years_in_window: int | None
    first_gap: Figure
    last_gap: Figure
    change: Figure
    change_lower: Figure
    change_upper: Figure
    per_year: Figure
    per_year_lower: Figure
    per_year_upper: Figure
    trend: Figure
    national_change: Figure
    compared_with_national: Figure


@dataclass(frozen=True, slots=True)
class IndexRow:
    time_period: int
    geo: str | None
    geo_name: str
    la_code: str
    stage: str
    disadvantaged_pupils: Figure
    other_pupils: Figure
    disadvantaged_rank: Figure
    other_rank: Figure
    gap_index: Figure
    national_gap_index: Figure


@dataclass(frozen=True, slots=True)
class StageRow:
    reception_year: int
    time_period: int
    geo: str | None
    la_code: str
    stage: str
    stage_order: int
    subgroup: str
    numerator: Figure
    denominator: Figure
    value: Figure


@dataclass(frozen=True, slots=True)
class TransitionRow:
    reception_year: int
    time_period: int
    geo: str | None
    from_stage: str
    to_stage: str
    from_order: int
    to_order: int
    subgroup: str
    tracked: Figure
    below_before: Figure
    caught_up: Figure
    caught_up_percentage: Figure
    at_expected_before: Figure
    fell_behind: Figure
    fell_behind_percentage: Figure
    stayed: Figure
    stayed_percentage: Figure


@dataclass(frozen=True, slots=True)
class SchoolRow:
    time_period: int
    urn: int | None
    laestab: int | None
    name: str
    phase: str | None
    geo: str | None
    category: str | None
    red_signals: Figure
    amber_signals: Figure
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class School:
    urn: int | None
    laestab: int | None
    name: str
    phase: str | None
    establishment_type: str | None
    is_open: bool | None


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    time_period: int
    geo: str | None
    la_code: str
    measure: str
    breakdown: str
    subgroup: str
    numerator: Figure
    denominator: Figure
    pupils: Figure
    value: Figure


@dataclass(frozen=True, slots=True)
class Benchmark:
    time_period: int
    measure: str
    subgroup: str
    value: Figure


# --- sources: one read-only DuckDB file ---------------------------------------------------------

class Source:
    """One read-only DuckDB file of the publication: the whole publication, or one community's
    extract. Results are cached: a publication never changes once published."""

    def __init__(self, path: Path, withheld_reason: str, by_measure: frozenset[str] = frozenset()):
        if not path.is_file():
            raise NoPublication(f"{path.name} is missing from the publication")
        self.path = path
        self._withheld = withheld_reason
        self._by_measure = by_measure  # figures shown to their row's measure's decimal places
        self._con = duckdb.connect(str(path), read_only=True, config={"threads": 1})
        self._lock = threading.Lock()
        self._cache: dict[tuple, Any] = {}
        self._columns: dict[str, frozenset[str]] | None = None

    def close(self) -> None:
        self._con.close()

    def _execute(self, sql: str, params: Iterable = ()) -> tuple[list[str], list[tuple]]:
        with self._lock:  # a cursor per query: DuckDB connections are not shared between threads
            cur = self._con.cursor()
        try:
            cur.execute(sql, list(params))
            names = [d[0] for d in cur.description]
            return names, cur.fetchall()
        finally:
            cur.close()

    def tables(self) -> list[str]:
        if self._columns is None:
            _, rows = self._execute("SELECT table_name, list(column_name) FROM information_schema.columns "
                                    "WHERE table_schema = 'main' GROUP BY 1 ORDER BY 1")
            self._columns = {t: frozenset(cols) for t, cols in rows}
        return sorted(self._columns)

    def columns(self, table: str) -> frozenset[str]:
        self.tables()
        return self._columns.get(table, frozenset())

    def _fetch(self, table: str, columns: list[str], where: str = "", params: Iterable = (), order: str = "") -> list[dict]:
        """Rows of ``table`` with the named columns that exist (and any figure's companion reason column)."""
        have = self.columns(table)
        if not have:
            return []
        wanted = [c for c in columns if c in have]
        wanted += [c + s for c in columns for s in _COMPANION_SUFFIXES if c + s in have and c + s not in wanted]
        sql = f"SELECT {', '.join(wanted)} FROM {table}" + (f" WHERE {where}" if where else "") + (f" ORDER BY {order}" if order else "")
        names, rows = self._execute(sql, params)
        return [dict(zip(names, r)) for r in rows]

    def _cached(self, key: tuple, build):
        hit = self._cache.get(key)
        if hit is None:
            hit = build()
            if len(self._cache) > 2000:
                self._cache.clear()
            self._cache[key] = hit
        return hit

    def _fig(self, row: dict, col: str) -> Figure:
        if col not in row:
            return Figure(None, NOT_AVAILABLE, "Not in this publication.")
        if row[col] is None and col.startswith("national_") and _companion(row, col) is None:
            return NO_NATIONAL
        f = figure(row[col], _companion(row, col), withheld_reason=self._withheld)
        if f.status == NOT_APPLICABLE and col in _AGAINST_NATIONAL:  # 'z' here: no England figure to compare with
            return Figure(None, NOT_APPLICABLE, "No England figures are held for this measure and these years.")
        if col in self._by_measure and row.get("measure") is not None:
            measure = self.measures().get(row["measure"])
            if measure is not None and measure.decimals is not None:
                return Figure(f.value, f.status, f.reason, measure.decimals)
        return f

    def _group(self, row: dict, prefix: str) -> Group:
        return Group(*(self._fig(row, f"{prefix}_{c}") for c in ("value", "numerator", "denominator", "pupils")))

    # --- the tables -----------------------------------------------------------------------------

    def measures(self) -> dict[str, Measure]:
        def build():
            rows = self._fetch("measures", ["measure", "measure_label", "stage", "stage_order", "measure_type",
                                            "higher_is_better", "unit", "decimals"], order="stage_order, measure")
            return {r["measure"]: Measure(r["measure"], r.get("measure_label") or r["measure"], r.get("stage") or "",
                                          r.get("stage_order") or 0, r.get("measure_type") or "", r.get("higher_is_better"),
                                          r.get("unit") or "", r.get("decimals")) for r in rows}
        return self._cached(("measures",), build)

    def years(self) -> list[Year]:
        def build():
            rows = self._fetch("dim_academic_years", ["time_period", "academic_year_label", "had_national_assessments"],
                               order="time_period")
            return [Year(r["time_period"], r.get("academic_year_label") or year_label(r["time_period"]),
                         bool(r.get("had_national_assessments", True))) for r in rows]
        return self._cached(("years",), build)

    def communities(self) -> list[Community]:
        def build():
            rows = self._fetch("dim_learning_communities", ["learning_community_code", "learning_community_name", "old_la_code",
                                                            "collaborative", "schools"], order="learning_community_code")
            return [Community(r["learning_community_code"], r.get("learning_community_name") or r["learning_community_code"],
                              str(r.get("old_la_code") or ""), r.get("collaborative"), r.get("schools")) for r in rows]
        return self._cached(("communities",), build)

    def authorities(self) -> dict[str, str]:
        """Old LA code -> the authority's name, for every authority in this source."""
        def build():
            rows = self._fetch("learning_community_outcomes", ["old_la_code", "la_name"],
                               "geographic_level = ? AND measure = 'pupils_on_roll' AND breakdown = ?",
                               [LOCAL_AUTHORITY, TOTAL])
            return {str(r["old_la_code"]): r.get("la_name") or str(r["old_la_code"]) for r in rows}
        return self._cached(("authorities",), build)

    def gaps(self, measures: tuple[str, ...] | None = None, time_period: int | None = None) -> list[GapRow]:
        everything = self._cached(("gaps",), self._all_gaps)
        if measures is None and time_period is None:
            return everything
        wanted = None if measures is None else set(measures)
        return self._cached(("gaps", measures, time_period), lambda: [
            g for g in everything if (wanted is None or g.measure in wanted) and (time_period is None or g.time_period == time_period)])

    def _all_gaps(self) -> list[GapRow]:
        groups = [f"{p}_{c}" for p in ("disadvantaged", "other", "rolling_disadvantaged", "rolling_other")
                  for c in ("value", "numerator", "denominator", "pupils")]
        rows = self._fetch("learning_community_disadvantage_gaps",
                           [*_GEO, "measure", *groups, "gap", "gap_unit", "rolling_years", "rolling_gap",
                            "national_disadvantaged_value", "national_other_value", "national_gap", "gap_against_national"],
                           order="time_period, learning_community_code NULLS FIRST, measure")
        return [GapRow(r["time_period"], *self._geo(r), r["measure"], self._group(r, "disadvantaged"), self._group(r, "other"),
                       self._fig(r, "gap"), r.get("gap_unit"), r.get("rolling_years"),
                       self._group(r, "rolling_disadvantaged"), self._group(r, "rolling_other"), self._fig(r, "rolling_gap"),
                       self._fig(r, "national_disadvantaged_value"), self._fig(r, "national_other_value"),
                       self._fig(r, "national_gap"), self._fig(r, "gap_against_national")) for r in rows]

    def gap_trends(self, measures: tuple[str, ...] | None = None) -> list[TrendRow]:
        everything = self._cached(("trends",), self._all_trends)
        if measures is None:
            return everything
        wanted = set(measures)
        return self._cached(("trends", measures), lambda: [t for t in everything if t.measure in wanted])

    def _all_trends(self) -> list[TrendRow]:
        figs = ["first_gap", "last_gap", "gap_change", "gap_change_lower_95", "gap_change_upper_95", "gap_change_per_year",
                "gap_change_per_year_lower_95", "gap_change_per_year_upper_95", "trend", "national_gap_change",
                "compared_with_national"]
        rows = self._fetch("learning_community_gap_trends",
                           [*_GEO, "measure", "first_time_period", "last_time_period", "years_in_window", *figs],
                           order="learning_community_code NULLS FIRST, measure")
        return [TrendRow(*self._geo(r), r["measure"], r.get("first_time_period"), r.get("last_time_period"),
                         r.get("years_in_window"), *(self._fig(r, c) for c in figs)) for r in rows]

    def gap_index(self) -> list[IndexRow]:
        def build():
            figs = ["disadvantaged_pupils", "other_pupils", "disadvantaged_mean_percentile_rank", "other_mean_percentile_rank",
                    "gap_index", "national_gap_index"]
            rows = self._fetch("learning_community_gap_index", [*_GEO, "stage", *figs],
                               order="stage, time_period, learning_community_code NULLS FIRST")
            return [IndexRow(r["time_period"], *self._geo(r), r["stage"], *(self._fig(r, c) for c in figs)) for r in rows]
        return self._cached(("gap_index",), build)

    def cohort_years(self) -> list[tuple[int, int]]:
        """(Reception year, stages published) for each cohort, the cohort followed furthest first."""
        def build():
            _, rows = self._execute("SELECT reception_year, count(DISTINCT stage) FROM learning_community_cohort_stages "
                                    "GROUP BY 1 ORDER BY 2 DESC, 1 DESC")
            return [(int(a), int(b)) for a, b in rows]
        if "learning_community_cohort_stages" not in self.tables():
            return []
        return self._cached(("cohort_years",), build)

    def cohort_stages(self, reception_year: int) -> list[StageRow]:
        def build():
            rows = self._fetch("learning_community_cohort_stages",
                               [*_GEO, "reception_year", "stage", "stage_order", "subgroup", "numerator", "denominator", "value"],
                               "reception_year = ?", [reception_year], order="stage_order, learning_community_code NULLS FIRST")
            return [StageRow(r["reception_year"], r["time_period"], self._geo(r)[0], str(r.get("old_la_code") or ""),
                             r["stage"], r.get("stage_order") or 0, r["subgroup"], self._fig(r, "numerator"),
                             self._fig(r, "denominator"), self._fig(r, "value")) for r in rows]
        return self._cached(("stages", reception_year), build)

    def cohort_transitions(self, reception_year: int) -> list[TransitionRow]:
        def build():
            figs = ["pupils_tracked", "below_expected_before", "caught_up", "caught_up_percentage", "at_expected_before",
                    "fell_behind", "fell_behind_percentage", "stayed_in_community", "stayed_in_community_percentage"]
            rows = self._fetch("learning_community_cohort_transitions",
                               [*_GEO, "reception_year", "from_stage", "to_stage", "from_stage_order", "to_stage_order",
                                "subgroup", *figs], "reception_year = ?", [reception_year],
                               order="from_stage_order, to_stage_order, learning_community_code NULLS FIRST")
            return [TransitionRow(r["reception_year"], r["time_period"], self._geo(r)[0], r["from_stage"], r["to_stage"],
                                  r.get("from_stage_order") or 0, r.get("to_stage_order") or 0, r["subgroup"],
                                  *(self._fig(r, c) for c in figs)) for r in rows]
        return self._cached(("transitions", reception_year), build)

    def school_categories(self) -> list[SchoolRow]:
        def build():
            rows = self._fetch("school_categories",
                               ["time_period", "school_urn", "school_laestab", "school_name", "phase", "learning_community_code",
                                "category", "red_signals", "amber_signals", "reasons"],
                               order="school_name, time_period")
            return [SchoolRow(r["time_period"], r.get("school_urn"), r.get("school_laestab"), r.get("school_name") or "",
                              r.get("phase"), r.get("learning_community_code"), r.get("category"),
                              self._fig(r, "red_signals"), self._fig(r, "amber_signals"),
                              tuple(s.strip() for s in (r.get("reasons") or "").split(";") if s.strip())) for r in rows]
        return self._cached(("schools",), build)

    def schools(self) -> list[School]:
        def build():
            rows = self._fetch("dim_schools", ["urn", "laestab", "school_name", "phase", "establishment_type", "is_open"],
                               order="school_name")
            return [School(r.get("urn"), r.get("laestab"), r.get("school_name") or "", r.get("phase"),
                           r.get("establishment_type"), r.get("is_open")) for r in rows]
        return self._cached(("dim_schools",), build)

    def outcomes(self, measures: tuple[str, ...], breakdowns: tuple[str, ...] = (TOTAL,),
                 time_period: int | None = None) -> list[OutcomeRow]:
        def build():
            where, params = _where(measures=measures, time_period=time_period)
            where += f" AND breakdown IN ({', '.join('?' * len(breakdowns))})"
            rows = self._fetch("learning_community_outcomes",
                               [*_GEO, "measure", "breakdown", "subgroup", "numerator", "denominator", "pupils", "value"],
                               where, [*params, *breakdowns], order="time_period, learning_community_code NULLS FIRST")
            return [OutcomeRow(r["time_period"], self._geo(r)[0], str(r.get("old_la_code") or ""), r["measure"],
                               r["breakdown"], r["subgroup"], *(self._fig(r, c) for c in ("numerator", "denominator",
                                                                                            "pupils", "value"))) for r in rows]
        return self._cached(("outcomes", measures, breakdowns, time_period), build)

    def national(self, measures: tuple[str, ...] | None = None) -> list[Benchmark]:
        def build():
            where, params = _where(measures=measures)
            rows = self._fetch("national_benchmarks", ["time_period", "measure", "subgroup", "value"], where, params,
                               order="time_period")
            return [Benchmark(r["time_period"], r["measure"], r.get("subgroup") or TOTAL, self._fig(r, "value")) for r in rows]
        return self._cached(("national", measures), build)

    def open_data(self) -> list[str]:
        """The tables published in the EES open-data layout (a geographic level per row)."""
        return [t for t in self.tables() if "geographic_level" in self.columns(t)]

    def csv(self, table: str) -> bytes:
        """One table as an EES-style CSV file (figures exactly as published)."""
        if table not in self.open_data():
            raise KeyError(table)

        def build():
            cols = ", ".join(f'"{c}"' for c in self._ordered_columns(table))
            names, rows = self._execute(f"SELECT {cols} FROM {table}")
            import csv

            out = io.StringIO()
            w = csv.writer(out, lineterminator="\n")
            w.writerow(names)
            w.writerows(["" if v is None else v for v in row] for row in rows)
            return out.getvalue().encode()
        return self._cached(("csv", table), build)

    def _ordered_columns(self, table: str) -> list[str]:
        _, rows = self._execute("SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                                "ORDER BY ordinal_position", [table])
        return [r[0] for r in rows]

    def open_data_zip(self, name: str) -> bytes:
        def build():
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for t in self.open_data():
                    z.writestr(f"{name}/{t}.csv", self.csv(t))
            return buf.getvalue()
        return self._cached(("zip", name), build)

    def _geo(self, r: dict) -> tuple[str | None, str, str]:
        lc = r.get("learning_community_code") if r.get("geographic_level", LEARNING_COMMUNITY) != LOCAL_AUTHORITY else None
        name = r.get("learning_community_name") if lc else r.get("la_name")
        return lc, name or lc or str(r.get("old_la_code") or ""), str(r.get("old_la_code") or "")


_AGAINST_NATIONAL = ("gap_against_national", "compared_with_national", "national_gap_change")
_GEO = ["time_period", "geographic_level", "old_la_code", "la_name", "learning_community_code", "learning_community_name"]


def _where(measures: tuple[str, ...] | None = None, time_period: int | None = None) -> tuple[str, list]:
    clauses, params = ["TRUE"], []
    if measures is not None:
        clauses.append(f"measure IN ({', '.join('?' * len(measures))})" if measures else "FALSE")
        params += list(measures)
    if time_period is not None:
        clauses.append("time_period = ?")
        params.append(time_period)
    return " AND ".join(clauses), params


def _companion(row: dict, col: str) -> Any:
    for suffix in _COMPANION_SUFFIXES:
        if col + suffix in row:
            return row[col + suffix]
    return None


def year_label(time_period: int) -> str:
    """EES time_period 202324 -> 2023/24."""
    return f"{time_period // 100}/{time_period % 100:02d}"


# --- publications ----------------------------------------------------------------------------------

@dataclass
class Publication:
    """One published folder, opened read-only on first use of each file."""

    path: Path
    manifest: dict
    _sources: dict[str, Source] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def id(self) -> str:
        pub_id = str(self.manifest.get("publication_id") or "")
        return pub_id if re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", pub_id) else self.path.name

    @property
    def created(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.manifest["created_at"]).astimezone(LONDON)
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def created_label(self) -> str:
        c = self.created
        return f"{c.day} {c:%B %Y}, {c:%H:%M}" if c else "date unknown"

    @property
    def community_codes(self) -> tuple[str, ...]:
        """Every community with an extract in this publication (from its manifest)."""
        return tuple(sorted(c for c in (self.manifest.get("extracts") or {}) if CODE.match(c)))

    @property
    def withheld_reason(self) -> str:
        return _withheld_reason(self.manifest)

    @property
    def by_measure(self) -> frozenset[str]:
        """The figures shown to their measure's decimal places (the contract's, in the manifest)."""
        return frozenset(c for cols in (self.manifest.get("measure_decimals") or {}).values() for c in cols)

    def whole(self, reader: Reader) -> Source:
        """Every community: authority analysts only."""
        if not reader.is_analyst:
            raise NotPermitted("the whole publication is for authority analysts")
        return self._source("pathways.duckdb", self.path / "pathways.duckdb")

    def community(self, reader: Reader, code: str) -> Source:
        """One community's extract, for an account that may see it. Unknown and forbidden look alike."""
        lc = self.permitted_code(reader, code)
        return self._source(lc, self.path / "by_learning_community" / f"{lc}.duckdb")

    def permitted_code(self, reader: Reader, code: str) -> str:
        """The publication's own spelling of ``code`` when ``reader`` may see it; else NotPermitted."""
        codes = self.community_codes
        if not isinstance(code, str) or code not in codes:
            raise NotPermitted("no such community")
        if not (reader.is_analyst or code in reader.communities):
            raise NotPermitted("not this account's community")
        return codes[codes.index(code)]

    def visible_codes(self, reader: Reader) -> list[str]:
        return [c for c in self.community_codes if reader.is_analyst or c in reader.communities]

    def download(self, reader: Reader, code: str, suffix: str) -> Path:
        """A community's workbook (.xlsx) or database (.duckdb) file, for an account that may see it."""
        lc = self.permitted_code(reader, code)
        if suffix not in (".xlsx", ".duckdb") or f"{lc}{suffix}" not in (self.manifest.get("extracts") or {}).get(lc, []):
            raise NotPermitted("no such file")
        path = self.path / "by_learning_community" / f"{lc}{suffix}"
        if not path.is_file():
            raise NotPermitted("no such file")
        return path

    def _source(self, key: str, path: Path) -> Source:
        with self._lock:
            src = self._sources.pop(key, None)
            if src is None:
                src = Source(path, self.withheld_reason, self.by_measure)
            self._sources[key] = src  # most recently used last
            while len(self._sources) > MAX_OPEN_SOURCES:  # a regional warehouse has thousands of communities
                self._sources.pop(next(iter(self._sources)))  # closed once no request holds it
            return src


class Publications:
    """The current publication, resolved once per request: ``published/current`` is read as a link
    to a folder, and that folder is the request's whole world."""

    def __init__(self, published_dir: Path, keep: int = 3):
        self.published_dir = published_dir
        self._keep = keep
        self._open: dict[str, Publication] = {}
        self._lock = threading.Lock()
        self.on_open = None  # called once with each publication newly seen (the server warms its pages)

    def current(self) -> Publication:
        link = self.published_dir / "current"
        try:
            target = os.readlink(link)
        except OSError as e:
            raise NoPublication("nothing has been published yet") from e
        folder = (self.published_dir / target) if not os.path.isabs(target) else Path(target)
        key = str(folder)
        with self._lock:
            pub = self._open.get(key)
            if pub is not None:
                return pub
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
        except (OSError, ValueError) as e:
            raise NoPublication(f"the current publication ({folder.name}) cannot be read") from e
        pub = Publication(folder, manifest)
        with self._lock:
            new = key not in self._open
            pub = self._open.setdefault(key, pub)
            # keep a few recent ones open; an evicted one closes once no request holds it
            while len(self._open) > self._keep:
                self._open.pop(next(iter(self._open)))
        if new and self.on_open is not None:
            self.on_open(pub)
        return pub
