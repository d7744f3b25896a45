"""Run a source's Great Expectations suite on an upload and return findings as rows.

The same runner serves ``pathways validate`` and the inbox flow inside the pipeline. GE runs
on a pandas frame made from the canonical polars frame (stack notes, trap 7: GE on DuckDB
through SQL is broken in 1.x); each failing row becomes a Finding with the file's own row
number and header, the value, the rule, its severity and how to fix it. Cross-file checks
(pupil premium pupils on the census; a school's row count far from its last upload) read the
warehouse and are warnings.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from dataclasses import dataclass, field
from functools import cache

import polars as pl

from ingest.canonical import CanonicalTable, Finding

MAX_ROWS_PER_RULE = 1000  # findings listed per rule; the count covers them all


@dataclass
class ValidationContext:
    """What the rules need from outside the file (all optional)."""

    known_laestabs: list[int] | None = None
    census_pupils: pl.DataFrame | None = None   # academic_year, pupil_key: who is on the census each year
    previous_rows_by_school: dict[int, int] = field(default_factory=dict)  # laestab -> rows in its last upload
    key: bytes | None = None
    row_count_tolerance: float = 0.25


@cache
def _batch_definition():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("uploads").add_dataframe_asset("upload")
    return asset.add_batch_definition_whole_dataframe("whole_upload")


def _prepare(table: CanonicalTable, upload: int) -> pl.DataFrame:
    """Derived columns some rules need (age against NC year, total absence), and which upload
    of the batch each row came from."""
    f = table.frame.with_columns(upload=pl.lit(upload, dtype=pl.Int32))
    if table.source.name == "census":
        nc = (pl.when(pl.col("nc_year") == "R").then(0)
              .otherwise(pl.col("nc_year").cast(pl.Int32, strict=False)))
        f = f.with_columns(nc_year_age_gap=(nc - (pl.col("age_months_at_31_august") // 12 - 4)))
        # the DOB as written: typing already reported unreadable dates; this catches missing ones
        f = f.join(table.raw.frame.select("row_number", pl.col(table.columns["dob"]).alias("dob")), on="row_number", how="left")
    if table.source.name == "attendance":
        f = f.with_columns(absence_sessions=pl.col("authorised_absence_sessions") + pl.col("unauthorised_absence_sessions"))
    return f


def validate_table(table: CanonicalTable, context: ValidationContext | None = None) -> list[Finding]:
    """All findings for one upload: typing problems found while reading, then every GE rule."""
    return validate_tables([table], context)[0]


def validate_tables(tables: list[CanonicalTable], context: ValidationContext | None = None) -> list[list[Finding]]:
    """Findings for each of several uploads, validated together.

    Uploads of the same source (and stage) with the same columns share one GE run over their
    rows stacked with an ``upload`` column: GE's fixed cost per run (building and resolving
    the metric graph for every expectation) is paid once per batch rather than once per file,
    which is most of the time on a borough's 99 files. Rules stay per upload: uniqueness is
    within an upload and each finding goes back to its own file and row.
    """
    from expectations.suites import rules_for  # imports GE: only when something is validated

    context = context or ValidationContext()
    findings: list[list[Finding]] = [list(t.findings) for t in tables]
    groups: dict[tuple, list[int]] = {}
    for i, t in enumerate(tables):
        if t.frame.height == 0 and t.errors:
            continue  # nothing typed to check: the typing findings say why
        groups.setdefault((t.source.name, t.source.stage, tuple(sorted(t.frame.columns))), []).append(i)
    for (source, stage, columns), members in groups.items():
        rules = [r for r in rules_for(source, stage, context.known_laestabs)
                 if _columns_present(r, [*columns, "upload", "nc_year_age_gap", "absence_sessions", "dob"])]
        if rules:
            for i, found in zip(members, _run_ge([tables[i] for i in members], rules)):
                typed = {(f.row, f.column) for f in findings[i]}  # a cell that failed typing is reported once
                findings[i] += [f for f in found if (f.row, f.column) not in typed]
    for i, t in enumerate(tables):
        findings[i] += _cross_file(t, context)
    return findings


def _rule_columns(rule) -> list[str]:
    """The columns a rule reads (its own, and its row condition's)."""
    cfg = rule.configuration if hasattr(rule, "configuration") else None
    kwargs = cfg.kwargs if cfg is not None else {}
    needed = [kwargs.get(k) for k in ("column", "column_A", "column_B") if kwargs.get(k)] + list(kwargs.get("column_list") or [])
    condition = kwargs.get("row_condition")
    return needed + re.findall(r'"name": "([^"]+)"', json.dumps(condition, default=str)) if condition else needed


def _columns_present(rule, columns: list[str]) -> bool:
    return all(c in columns for c in _rule_columns(rule))


def _run_ge(tables: list[CanonicalTable], rules: list) -> list[list[Finding]]:
    import great_expectations as gx

    frame = pl.concat([_prepare(t, i) for i, t in enumerate(tables)], how="vertical_relaxed")
    # only what the rules read: GE filters the whole frame for every metric of every rule
    used = {"upload", "row_number", "subject"} | {c for r in rules for c in _rule_columns(r)}
    pdf = frame.select([c for c in frame.columns if c in used]).to_pandas()
    suite = gx.ExpectationSuite(name=f"{tables[0].source.label}", expectations=rules)
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": pdf})
    index_columns = ["upload", "row_number", "subject"] if "subject" in pdf.columns else ["upload", "row_number"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = batch.validate(suite, result_format={"result_format": "COMPLETE",
                                                      "unexpected_index_column_names": index_columns,
                                                      "partial_unexpected_count": 0})
    findings: list[list[Finding]] = [[] for _ in tables]
    for r in result.results:
        meta = r.expectation_config.meta or {}
        kwargs = r.expectation_config.kwargs
        column = meta.get("blame") or kwargs.get("column") or kwargs.get("column_A") or ",".join(_shown(kwargs.get("column_list")))
        if r.exception_info and r.exception_info.get("raised_exception"):
            for i, t in enumerate(tables):
                findings[i].append(Finding(t.path.name, None, column, None, meta.get("rule", r.expectation_config.type), "error",
                                           f"the rule could not run: {r.exception_info.get('exception_message')}",
                                           "report this to the Pathways maintainers"))
            continue
        if r.success:
            continue
        listed = [0] * len(tables)
        for item in r.result.get("unexpected_index_list") or []:
            i = int(item["upload"])
            if listed[i] >= MAX_ROWS_PER_RULE:
                continue
            listed[i] += 1
            table = tables[i]
            row = int(item.get("row_number")) if item.get("row_number") is not None else None
            findings[i].append(Finding(table.path.name, row, _header(table, column, item.get("subject")),
                                       _value(item, column, kwargs), meta.get("rule", "rule"),
                                       meta.get("severity", "error"), meta.get("message", r.expectation_config.type),
                                       meta.get("fix", "")))
    return findings


def _shown(columns: list[str] | None) -> list[str]:
    """Columns as the data lead knows them: ``upload`` only tells uploads of a batch apart."""
    return [c for c in columns or [] if c != "upload"]


def _value(item: dict, column: str, kwargs: dict) -> str | None:
    if kwargs.get("column_list"):
        return ", ".join(f"{c}={item.get(c)}" for c in _shown(kwargs["column_list"]))
    if kwargs.get("column_A"):
        return f"{kwargs['column_A']} {_show(item.get(kwargs['column_A']))}, {kwargs['column_B']} {_show(item.get(kwargs['column_B']))}"
    return _show(item.get(column))


def _show(v) -> str | None:
    if v is None or v != v:  # v != v: NaN
        return None
    if hasattr(v, "strftime"):
        return v.strftime("%d/%m/%Y")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _header(table: CanonicalTable, column: str, subject: str | None) -> str:
    """The column as the file names it (for long attainment rows, the subject's own column)."""
    if column == "result" and table.source.name == "attainment":
        return table.subject_headers.get(subject, table.columns.get("grade", "result"))
    return table.columns.get(column, {"nc_year_age_gap": table.columns.get("dob", "DOB"),
                                      "absence_sessions": "absence"}.get(column, column))


def _cross_file(table: CanonicalTable, context: ValidationContext) -> list[Finding]:
    out: list[Finding] = []
    name = table.path.name
    f = table.frame
    if table.source.name == "pupil_premium" and context.census_pupils is not None and context.key:
        from ingest.identifiers import pseudonymise

        census = context.census_pupils.select(pl.col("academic_year").cast(pl.Int32), "pupil_key")
        missing = (f.select("row_number", pl.col("academic_year").cast(pl.Int32), "upn")
                   .with_columns(pupil_key=pseudonymise(f["upn"], context.key))
                   .filter(pl.col("academic_year").is_in(census["academic_year"].unique().implode()))  # years with a census only
                   .join(census, on=["academic_year", "pupil_key"], how="anti")
                   .sort("row_number").head(MAX_ROWS_PER_RULE))
        for row, upn in missing.select("row_number", "upn").iter_rows():
            out.append(Finding(name, row, table.columns.get("upn", "UPN"), upn, "pupil_premium_not_on_census",
                               "warning", "this pupil is not on the census for the year",
                               "check the UPN; pupils who left before census day can be removed"))
    if context.previous_rows_by_school and "laestab" in f.columns:
        counts = f.group_by("laestab").agg(pl.col("upn").n_unique().alias("n") if "upn" in f.columns else pl.len().alias("n"))
        for laestab, n in counts.iter_rows():
            before = context.previous_rows_by_school.get(laestab)
            if before and abs(n - before) > context.row_count_tolerance * before:
                out.append(Finding(name, None, table.columns.get("laestab", "LAESTAB"),
                                   f"{laestab}: {n} pupils now, {before} in its last upload", "school_row_count_change",
                                   "warning", "a school's pupil count is far from its last upload",
                                   "check the export covered the whole school (or explain the change)"))
    return out
