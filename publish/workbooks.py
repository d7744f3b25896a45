"""A learning community's workbook, made for people: laid out as the Government Analysis Function's
guidance for releasing statistics in spreadsheets asks (the layout the ``gptables`` package
produces; docs/methodology.md#workbooks).

Cover sheet (what this is, which community, publication id and date, sources, contact), contents,
notes (the symbols and the definitions, with links), then one table per sheet: a title in A1, a
line saying what the table holds, and a named Excel table with plain-word headers. Figures are
numbers with number formats (no thousands separators in URNs and LAESTABs), academic years read
2023/24, and a figure that is not shown holds its symbol in square brackets ([c], [z], [x]) as
the guidance asks. Column widths are set in Excel's character units, wide enough for the longest
value shown; long headers wrap. Every string is written as a string: the workbook never holds a
formula, whatever the uploads' names (publish/safe_text.py).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl

from config.labels import DISADVANTAGE_BREAKDOWN, LOCAL_AUTHORITY, TOTAL
from publish.masking import NOT_APPLICABLE, NOT_AVAILABLE, SUPPRESSED, status_column
from publish.safe_text import neutralise

METHODOLOGY = {  # public sources of the definitions (docs/methodology.md#sources)
    "EES open data standards (symbols)":
        "https://dfe-analytical-services.github.io/analysts-guide/statistics-production/ud.html",
    "Key stage 2 attainment: methodology":
        "https://explore-education-statistics.service.gov.uk/methodology/key-stage-2-attainment",
    "Key stage 4 performance: methodology":
        "https://explore-education-statistics.service.gov.uk/methodology/secondary-accountability-measures",
    "Pupil absence in schools in England: methodology":
        "https://explore-education-statistics.service.gov.uk/methodology/pupil-absence-in-schools-in-england",
    "Releasing statistics in spreadsheets (Analysis Function)":
        "https://analysisfunction.civilservice.gov.uk/policy-store/releasing-statistics-in-spreadsheets/",
}
SYMBOLS = {SUPPRESSED: "[c]", NOT_APPLICABLE: "[z]", NOT_AVAILABLE: "[x]"}
NOTES = [
    ("[c]", "Confidential: withheld to protect pupils. The figure rests on too few pupils, or would let "
            "another withheld figure be worked out (docs/methodology.md#disclosure-control)."),
    ("[z]", "Not applicable: no pupils in this group, or no result that year."),
    ("[x]", "Not available: no figure is held, for example no national figure for this measure and year."),
    ("Learning community", "A group of the authority's schools. 'Local authority' rows are the whole authority, "
                           "for comparison."),
    ("Disadvantaged", "Pupils eligible for free school meals in the last six years, or looked after or previously "
                      "looked after, as DfE defines disadvantage (docs/methodology.md#disadvantage)."),
    ("Disadvantage gap", "Other pupils' figure minus disadvantaged pupils' figure: positive means disadvantaged pupils "
                         "are behind (percentage points for percentages; points for averages)."),
    ("Academic year", "Written 2023/24: from September 2023 to August 2024."),
]
HEADERS = {
    "time_period": "Academic year", "academic_year": "Academic year", "time_identifier": "Period covered",
    "geographic_level": "Level", "la_name": "Local authority", "learning_community_code": "Learning community code",
    "learning_community_name": "Learning community", "collaborative": "Collaborative", "stage": "Stage",
    "measure": "Measure", "measure_label": "Measure", "measure_type": "Kind of measure", "breakdown": "Pupil characteristic",
    "subgroup": "Pupil group", "numerator": "Numerator", "denominator": "Denominator", "pupils": "Pupils", "value": "Figure",
    "disadvantaged_pupils": "Disadvantaged pupils", "disadvantaged_value": "Disadvantaged pupils: figure",
    "other_pupils": "Other pupils", "other_value": "Other pupils: figure", "gap": "Disadvantage gap",
    "gap_unit": "Gap measured in", "rolling_years": "Years pooled (rolling)",
    "rolling_disadvantaged_value": "Disadvantaged: rolling figure", "rolling_other_value": "Other: rolling figure",
    "rolling_gap": "Rolling gap", "national_disadvantaged_value": "England: disadvantaged",
    "national_other_value": "England: other pupils", "national_gap": "England: gap",
    "gap_against_national": "Gap minus England's gap", "first_time_period": "First year", "last_time_period": "Last year",
    "years_in_window": "Years in the trend", "first_gap": "Gap in the first year", "last_gap": "Gap in the last year",
    "gap_change": "Change in the gap", "gap_change_lower_95": "Change: lower 95% bound",
    "gap_change_upper_95": "Change: upper 95% bound", "gap_change_per_year": "Trend per year",
    "gap_change_per_year_lower_95": "Trend per year: lower 95% bound",
    "gap_change_per_year_upper_95": "Trend per year: upper 95% bound", "interval_basis": "Interval deciding the verdict",
    "trend": "Trend", "national_gap_change": "England: change in the gap",
    "national_gap_change_per_year": "England: trend per year", "compared_with_national": "Against England",
    "disadvantaged_mean_percentile_rank": "Disadvantaged: mean percentile rank",
    "other_mean_percentile_rank": "Other: mean percentile rank", "gap_index": "Gap index",
    "subjects_ranked": "Subjects ranked", "national_gap_index": "England: gap index", "reception_year": "Started Reception",
    "reception_cohort": "Reception cohort", "from_stage": "From stage", "to_stage": "To stage",
    "pupils_tracked": "Pupils tracked", "below_expected_before": "Below expected before", "caught_up": "Caught up",
    "caught_up_percentage": "Caught up (%)", "at_expected_before": "At expected before", "fell_behind": "Fell behind",
    "fell_behind_percentage": "Fell behind (%)", "stayed_in_community": "Stayed in the community",
    "stayed_in_community_percentage": "Stayed in the community (%)", "school_urn": "URN", "school_laestab": "LAESTAB",
    "urn": "URN", "laestab": "LAESTAB", "school_name": "School", "phase": "Phase", "category": "Category",
    "red_signals": "Red signals", "amber_signals": "Amber signals", "reasons": "Why", "higher_is_better": "Higher is better",
    "unit": "Unit", "decimals": "Decimal places", "stage_order": "Stage order", "source": "Source",
    # the figure's own trend beside the gap's (learning_community_gap_trends)
    "first_value": "Figure in the first year", "last_value": "Figure in the last year",
    "value_change_per_year": "Figure: trend per year", "value_change_per_year_lower_95": "Figure trend: lower 95% bound",
    "value_change_per_year_upper_95": "Figure trend: upper 95% bound", "value_trend": "Figure: trend",
    "value_interval_basis": "Figure: interval deciding the verdict",
}
YEARS = {"time_period", "first_time_period", "last_time_period", "reception_cohort"}  # 202324 -> 2023/24
START_YEARS = {"academic_year", "reception_year"}                                  # 2023 -> 2023/24
IDENTIFIERS = {"urn", "laestab", "school_urn", "school_laestab", "predecessor_urn"}
# codes and workings people do not need in a workbook (the DuckDB extract and the open data hold them)
DROP = {"country_code", "country_name", "new_la_code", "old_la_code", "la_name", "suppressed", "learning_community_code",
        "stage_order", "from_stage_order", "to_stage_order", "numerator", "denominator", "measure_type", "collaborative",
        "rolling_disadvantaged_pupils", "rolling_other_pupils", "interval_basis", "value_interval_basis"}
WORKINGS = re.compile(r"(numerator|denominator)$")
MAX_WIDTH = 40   # characters; longer text wraps
HEADER_WIDTH = 13  # a header longer than this wraps rather than widening its column


@dataclass(frozen=True)
class Sheet:
    table: str
    name: str        # sheet name (31 characters at most)
    title: str
    about: str


SHEETS = [
    Sheet("learning_community_disadvantage_gaps", "Gaps", "Disadvantage gaps by measure and year",
          "Disadvantaged and other pupils' figures and the gap between them, for this learning community and the "
          "whole authority, with England's figures where DfE publishes them."),
    Sheet("learning_community_gap_trends", "Gap_trends", "Whether each gap is narrowing",
          "The change in each gap over the trend window, its 95% interval and the verdict."),
    Sheet("learning_community_outcomes", "Outcomes", "Outcomes for all pupils and by disadvantage",
          "Every measure for all pupils, disadvantaged pupils and other pupils (the DuckDB extract holds every "
          "other breakdown)."),
    Sheet("learning_community_gap_index", "Gap_index", "Disadvantage gap index (KS2 and KS4)",
          "DfE's disadvantage gap index from pupils' ranks within the authority."),
    Sheet("learning_community_cohort_transitions", "Cohort_transitions", "How each cohort moves between stages",
          "Pupils assessed at two stages: who caught up, who fell behind and who stayed in the community."),
    Sheet("school_categories", "School_categories", "School categories",
          "Each school's category and the signals behind it (docs/methodology.md#school-categorisation)."),
    Sheet("measures", "Measures", "The measures", "Every measure: its stage, kind, unit and decimal places."),
    Sheet("national_benchmarks", "National_benchmarks", "England's figures used for comparison",
          "National figures DfE publishes, as used beside the learning community's."),
]


def write_workbook(path: Path, lc: str, parts: dict[str, pl.DataFrame], about: dict,
                   by_measure: dict[str, set[str]] | None = None) -> None:
    """One learning community's workbook at ``path``; ``about``: lc_name, la_name, publication_id,
    published (a datetime), contact, methodology_url; ``by_measure``: per table, the figures shown
    to their row's measure's decimal places (the measures table's ``decimals``)."""
    import xlsxwriter

    # strings stay strings: no text is ever turned into a formula, a link or a number
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    with xlsxwriter.Workbook(path, options) as wb:
        f = _formats(wb)
        cover = wb.add_worksheet("Cover")
        contents = wb.add_worksheet("Contents")
        notes = wb.add_worksheet("Notes")
        _cover(cover, f, lc, about)
        _notes(notes, f, about)
        listed = []
        for i, sheet in enumerate(SHEETS, start=1):
            if sheet.table not in parts:
                continue
            frame = parts[sheet.table]
            if sheet.table == "learning_community_outcomes":  # the headline breakdowns; the .duckdb has all
                frame = frame.filter(pl.col("breakdown").is_in([TOTAL, DISADVANTAGE_BREAKDOWN]))
            frame = _with_places(frame, parts.get("measures"), (by_measure or {}).get(sheet.table, set()))
            _table(wb.add_worksheet(sheet.name), f, sheet, _in_words(frame, parts.get("measures")),
                   f"table_{i}_{sheet.name.lower()}", (by_measure or {}).get(sheet.table, set()))
            listed.append(sheet)
        _contents(contents, f, listed)


PLACES = "__places"  # each row's measure's decimal places, beside the figures shown to them


def _with_places(frame: pl.DataFrame, measures: pl.DataFrame | None, columns: set[str]) -> pl.DataFrame:
    """The frame with its measure's decimal places on each row, where figures are shown to them."""
    if not columns or measures is None or "measure" not in frame.columns:
        return frame
    places = dict(zip(measures["measure"], measures["decimals"], strict=True))
    return frame.with_columns(pl.col("measure").replace_strict(places, default=None, return_dtype=pl.Int64).alias(PLACES))


def _in_words(frame: pl.DataFrame, measures: pl.DataFrame | None) -> pl.DataFrame:
    """Codes people do not read as words: measures by their label, stages by name, one academic year column."""
    from publish.open_data import STAGES

    if "academic_year" in frame.columns and "time_period" in frame.columns:
        frame = frame.drop("academic_year")
    if "reception_year" in frame.columns and "reception_cohort" in frame.columns:
        frame = frame.drop("reception_year")
    if "time_identifier" in frame.columns and frame["time_identifier"].n_unique() <= 1:
        frame = frame.drop("time_identifier")  # said once, in the title line, rather than on every row
    if {"geographic_level", "learning_community_name"} <= set(frame.columns):  # one column says whose figures
        whole = pl.col("la_name").fill_null("the authority") + " (whole authority)" if "la_name" in frame.columns \
            else pl.lit("Whole authority")
        frame = frame.with_columns(learning_community_name=pl.when(pl.col("geographic_level") == LOCAL_AUTHORITY)
                                   .then(whole).otherwise(pl.col("learning_community_name"))).drop("geographic_level")
    if measures is not None and "measure" in frame.columns and "measure_label" not in frame.columns:
        labels = dict(zip(measures["measure"], measures["measure_label"], strict=True))
        frame = frame.with_columns(pl.col("measure").replace(labels))
    return frame.with_columns(pl.col(c).replace(STAGES) for c in ("stage", "from_stage", "to_stage") if c in frame.columns)


def _formats(wb) -> dict:
    return {
        "title": wb.add_format({"bold": True, "font_size": 15}),
        "heading": wb.add_format({"bold": True, "font_size": 12}),
        "text": wb.add_format({"text_wrap": True, "valign": "top"}),
        "header": wb.add_format({"bold": True, "text_wrap": True, "valign": "bottom", "bottom": 1}),
        "link": wb.add_format({"font_color": "#1d70b8", "underline": 1}),
        # table cells sit at the top of their row, level with any wrapped text beside them
        "cell": wb.add_format({"valign": "top"}),
        "wrap": wb.add_format({"valign": "top", "text_wrap": True}),
        "symbol": wb.add_format({"align": "right", "valign": "top"}),
        "int": wb.add_format({"num_format": "#,##0", "valign": "top"}),
        "id": wb.add_format({"num_format": "0", "valign": "top"}),
        "date": wb.add_format({"num_format": "d mmmm yyyy", "align": "left", "valign": "top"}),
        **{f"dp{d}": wb.add_format({"num_format": "#,##0." + "0" * d, "valign": "top"}) for d in range(1, 5)},
    }


LINE_HEIGHT = 15  # points per line of 11-point text


def _lines(text: str, width: float) -> int:
    """Lines ``text`` takes wrapped in a column ``width`` characters wide (a little pessimistic: a spreadsheet
    does not size rows of wrapped text written by a program, so the height is set here)."""
    per_line = max(1.0, width - 2) * 0.95
    return sum(max(1, math.ceil(len(part) / per_line)) for part in str(text).split("\n"))


PAGE_WIDTH = 240  # characters across A4 landscape that still print at a readable size (about 70%)


def _page(ws, width: float = 0, repeat: int = 0) -> None:
    """Printed (and rendered to PDF) landscape on A4: one page wide where the columns fit at a readable
    size; a wider table runs on across pages at 70%, its first ``repeat`` columns on every page."""
    ws.set_landscape()
    ws.set_paper(9)
    if width <= PAGE_WIDTH:
        ws.fit_to_pages(1, 1000)  # one page wide, as many tall as it takes (LibreOffice reads 0 as one page)
    else:
        ws.set_print_scale(70)
        ws.print_across()  # a row's columns on consecutive pages
        if repeat:
            ws.repeat_columns(0, repeat - 1)


def _text(ws, row: int, col: int, value: str, fmt=None) -> None:
    ws.write_string(row, col, neutralise(value) or "", fmt)


def _cover(ws, f, lc: str, about: dict) -> None:
    width = 90
    ws.set_column(0, 0, width)
    _page(ws)
    published: datetime = about["published"]
    lines = [
        ("title", f"Pupil outcomes and disadvantage gaps: {about.get('lc_name') or lc}"),
        ("text", f"Learning community {about.get('lc_name') or lc} ({lc}), {about['la_name']}. The tables show how pupils "
                 "do at each stage from the early years to age 16, and whether the gap between disadvantaged pupils and "
                 "the rest is narrowing, beside the whole authority and England."),
        ("heading", "Publication"),
        ("text", f"Publication {about['publication_id']}, published {published:%-d %B %Y}."),
        ("heading", "Sources"),
        ("text", "The authority's school census, early years foundation stage profile, phonics, key stage 1, 2 and 4 "
                 "results, attendance and pupil premium records; England's figures from DfE's published statistics "
                 "on Explore Education Statistics."),
        ("heading", "Symbols and definitions"),
        ("text", "The Notes sheet says what [c], [z] and [x] mean and defines the measures."),
        ("heading", "Methodology"),
        ("link" if about["methodology_url"].startswith("https://") else "text", about["methodology_url"]),
        ("heading", "Contact"),
        ("text", about["contact"]),
    ]
    for row, (kind, value) in enumerate(lines):
        if kind == "link" and value.startswith("https://"):
            ws.write_url(row, 0, value, f["link"], string=value)
        else:
            _text(ws, row, 0, value, f[kind])
        if kind == "text":
            ws.set_row(row, LINE_HEIGHT * _lines(value, width))


def _notes(ws, f, about: dict) -> None:
    _text(ws, 0, 0, "Notes", f["title"])
    _text(ws, 1, 0, "This worksheet contains one table: the symbols used and the definitions.")
    links = [None] * len(NOTES) + list(METHODOLOGY.values())
    widths = (20, 70, max(len(u) for u in [*METHODOLOGY.values(), about["methodology_url"]]) + 2)
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    _page(ws)
    rows = [*NOTES, *(("Source", name) for name in METHODOLOGY)]
    _text(ws, 2, 0, "Note", f["header"])
    _text(ws, 2, 1, "Meaning", f["header"])
    _text(ws, 2, 2, "Link", f["header"])
    for r, ((term, meaning), link) in enumerate(zip(rows, links, strict=True), start=3):
        _text(ws, r, 0, term, f["text"])
        _text(ws, r, 1, meaning, f["text"])
        ws.set_row(r, LINE_HEIGHT * _lines(meaning, widths[1]))
        if link:
            ws.write_url(r, 2, link, f["link"], string=link)
        else:
            _text(ws, r, 2, about["methodology_url"] if term in ("[c]", "Disadvantaged") else "")
    ws.add_table(2, 0, 2 + len(rows), 2, {"name": "notes", "style": None, "autofilter": False,
                                          "columns": [{"header": h, "header_format": f["header"]} for h in ("Note", "Meaning", "Link")]})


def _contents(ws, f, sheets: list[Sheet]) -> None:
    _text(ws, 0, 0, "Contents", f["title"])
    _text(ws, 1, 0, "This worksheet contains one table: each sheet of this workbook and what it holds.")
    widths = (22, 45, 70)
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    _page(ws)
    for c, h in enumerate(("Sheet", "Table", "What it holds")):
        _text(ws, 2, c, h, f["header"])
    rows = [Sheet("", "Notes", "Notes", "Symbols and definitions."), *sheets]
    for r, s in enumerate(rows, start=3):
        ws.write_url(r, 0, f"internal:'{s.name}'!A1", f["link"], string=s.name)
        _text(ws, r, 1, s.title, f["text"])
        _text(ws, r, 2, s.about, f["text"])
        ws.set_row(r, LINE_HEIGHT * max(_lines(s.about, widths[2]), _lines(s.title, widths[1])))
    ws.add_table(2, 0, 2 + len(rows), 2, {"name": "contents", "style": None, "autofilter": False,
                                          "columns": [{"header": h, "header_format": f["header"]}
                                                      for h in ("Sheet", "Table", "What it holds")]})


def _header(col: str) -> str:
    return HEADERS.get(col) or col.replace("_", " ").capitalize()


def _year(v: int, six_digit: bool) -> str:
    start = v // 100 if six_digit else v
    return f"{start}/{(start + 1) % 100:02d}"


def _table(ws, f, sheet: Sheet, frame: pl.DataFrame, name: str, measure_columns: set[str] = frozenset()) -> None:
    figures = [c for c in frame.columns if status_column(c) in frame.columns]
    columns = [c for c in frame.columns
               if c not in DROP and c != PLACES and not c.endswith("_status") and not WORKINGS.search(c)]
    _text(ws, 0, 0, sheet.title, f["title"])
    _text(ws, 1, 0, sheet.about + " Symbols ([c], [z], [x]) are explained on the Notes sheet.")
    top = 3
    headers = _unique(["Measure code" if c == "measure" and "measure_label" in columns else _header(c) for c in columns])
    widths = [min(len(h), HEADER_WIDTH) for h in headers]
    # one number format per column: the most decimal places its figures are published with
    places = {c: max([_decimals(v) for v in frame[c].drop_nulls().head(2000).to_list()], default=0)
              for c in columns if frame.schema[c].is_float()}
    # figures shown to their measure's places (an exclusion rate to 2, a percentage to 1) each row
    by_measure = set(measure_columns) & set(columns) if PLACES in frame.columns else set()
    extra = [PLACES] if by_measure else []
    rows = frame.select(columns + [status_column(c) for c in figures if c in columns] + extra).iter_rows(named=True)
    r = top
    for r, row in enumerate(rows, start=top + 1):
        tall = 1
        for c, col in enumerate(columns):
            shown = _cell(ws, f, r, c, col, row[col], row.get(status_column(col)) if col in figures else None,
                          frame.schema[col],
                          row[PLACES] if col in by_measure and row[PLACES] is not None else places.get(col, 0))
            widths[c] = max(widths[c], len(shown))
            if len(shown) > MAX_WIDTH:  # long text wraps in its column
                tall = max(tall, _lines(shown, MAX_WIDTH + 2))
        if tall > 1:
            ws.set_row(r, LINE_HEIGHT * tall)
    last = max(r, top + 1)
    if r == top:  # no rows: say so in the table
        _text(ws, top + 1, 0, "No rows for this learning community.")
    for c, w in enumerate(widths):
        text_col = frame.schema[columns[c]] == pl.String
        ws.set_column(c, c, min(w, MAX_WIDTH) + 2, f["wrap"] if text_col and w > MAX_WIDTH else None)
    ws.set_row(top, LINE_HEIGHT * max(_lines(h, min(w, MAX_WIDTH) + 2) for h, w in zip(headers, widths, strict=True)))
    ws.add_table(top, 0, last, len(columns) - 1, {
        "name": name, "style": "Table Style Light 1", "autofilter": False,
        "columns": [{"header": h, "header_format": f["header"]} for h in headers]})
    ws.freeze_panes(top + 1, 0)
    keys = sum(1 for c in columns[:3] if c in ("time_period", "time_identifier", "learning_community_name"))
    total = sum(min(w, MAX_WIDTH) + 2 for w in widths)
    _page(ws, total, keys)
    ws.repeat_rows(top)


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    return out


def _cell(ws, f, r: int, c: int, col: str, value, status, dtype, dp: int) -> str:
    """Write one cell; return its text as shown, for the column's width."""
    if value is None:
        symbol = SYMBOLS.get(status or NOT_AVAILABLE, "[x]") if status or _is_figure_like(dtype) else ""
        ws.write_string(r, c, symbol, f["symbol"])
        return symbol
    if col in YEARS and isinstance(value, int):
        text = _year(value, value > 9999)
        ws.write_string(r, c, text, f["cell"])
        return text
    if col in START_YEARS and isinstance(value, int):
        text = _year(value, False)
        ws.write_string(r, c, text, f["cell"])
        return text
    if isinstance(value, bool):
        ws.write_string(r, c, "Yes" if value else "No", f["cell"])
        return "Yes"
    if isinstance(value, int):
        fmt = f["id"] if col in IDENTIFIERS else f["int"]
        ws.write_number(r, c, value, fmt)
        return str(value) if col in IDENTIFIERS else f"{value:,}"
    if isinstance(value, float):
        ws.write_number(r, c, value, f[f"dp{dp}"] if dp else f["int"])
        return f"{value:,.{dp}f}"
    if isinstance(value, datetime | date):
        ws.write_datetime(r, c, value if isinstance(value, datetime) else datetime(value.year, value.month, value.day),
                          f["date"])
        return f"{value:%-d %B %Y}"
    text = neutralise(str(value)) or ""
    ws.write_string(r, c, text, f["wrap"] if len(text) > MAX_WIDTH else f["cell"])
    return text


def _is_figure_like(dtype) -> bool:
    return dtype.is_numeric()


def _decimals(value: float) -> int:
    """Decimal places as published (rounded on publication): at most 4."""
    text = re.sub(r"0+$", "", f"{value:.4f}").rstrip(".")
    return len(text.split(".")[1]) if "." in text else 0
