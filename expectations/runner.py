"""Run a source's Great Expectations suite on an upload and return findings as rows.

The same runner serves ``pathways validate`` and the inbox flow inside the pipeline. GE runs
on a pandas frame made from the canonical polars frame (stack notes, trap 7: GE on DuckDB
through SQL is broken in 1.x); each failing row becomes a Finding with the file's own row
number, the column as the file names it and the cell as the file writes it (``Y5``, not the
derived ``5`` or an age gap of ``-8``), the rule, its severity, how to fix it and the other cells
of the row that explain it. Cross-file checks (pupil premium pupils on the census; a school's
row count far from its last upload; the same UPN on a different pupil at another school) read
the warehouse and are warnings.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from dataclasses import dataclass, field
from datetime import date
from functools import cache

import polars as pl

from expectations import code_sets as cs
from ingest.canonical import CanonicalTable, Finding

MAX_ROWS_PER_RULE = 1000  # findings listed per rule; the count covers them all
# derived columns, as a finding's detail names them
DERIVED_LABELS = {"absence_sessions": "absence", "age_note": ""}


@dataclass
class ValidationContext:
    """What the rules need from outside the file (all optional)."""

    known_laestabs: list[int] | None = None
    census_pupils: pl.DataFrame | None = None   # academic_year, pupil_key: who is on the census each year
    previous_rows_by_school: dict[int, int] = field(default_factory=dict)  # laestab -> rows in its last upload
    key: bytes | None = None
    row_count_tolerance: float = 0.25
    # pupil_key, laestab, dob_hash, name_hash, source_file, row_number: who the warehouse says the batch's pupils are
    identities: pl.DataFrame | None = None
    batch_identities: pl.DataFrame | None = None  # the batch's own (batch_identities), when already computed
    today: date = field(default_factory=date.today)


@cache
def _batch_definition():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("uploads").add_dataframe_asset("upload")
    return asset.add_batch_definition_whole_dataframe("whole_upload")


def _nc_number(col: str = "nc_year") -> pl.Expr:
    return pl.when(pl.col(col) == "R").then(0).otherwise(pl.col(col).cast(pl.Int32, strict=False))


def _prepare(table: CanonicalTable, upload: int, today: date) -> pl.DataFrame:
    """Derived columns some rules need (age at 31 August, its fit with the year group, total absence,
    days the birth date lies ahead), and which upload of the batch each row came from."""
    from expectations.suites import SCHOOL_AGE_RANGE

    f = table.frame.with_columns(upload=pl.lit(upload, dtype=pl.Int32))
    source = table.source.name
    current = today.year if today.month >= 8 else today.year - 1  # the academic year under way (as census dates file it)
    if source == "census" and "census_date" in f.columns:
        f = f.with_columns(census_date_days_after_today=(pl.col("census_date") - pl.lit(today)).dt.total_days())
    elif "academic_year" in f.columns:
        f = f.with_columns(academic_years_ahead=pl.col("academic_year") - current)
    if table.identity is not None and "dob" in table.columns and "academic_year" in f.columns:
        dob = table.identity.select("row_number", pl.col("dob").cast(pl.Date, strict=False).alias("dob_date"))
        f = f.join(dob, on="row_number", how="left")
        future = (pl.col("dob_date") - pl.lit(today)).dt.total_days()
        # no age for a year that has not started: that year is the error, not the pupil's age
        age = pl.when((future <= 0) & (pl.col("academic_year") <= current)).then(
            ((pl.col("academic_year") - pl.col("dob_date").dt.year()) * 12 + (8 - pl.col("dob_date").dt.month())) // 12)
        f = f.with_columns(dob_days_after_today=future, age_years=age.cast(pl.Int32))
        f = f.with_columns(age_note=pl.format("age {} at 31 August {}", pl.col("age_years"), pl.col("academic_year")))
        if source in ("census", "attainment"):
            lo, hi = SCHOOL_AGE_RANGE.get(source, (None, None))
            gap = pl.col("age_years") - (_nc_number() + 4)
            if lo is not None:  # an age no pupil can have is reported once, as that
                gap = pl.when(pl.col("age_years").is_between(lo, hi)).then(gap)
            f = f.with_columns(nc_year_age_gap=gap).with_columns(
                nc_year_age_gap_soft=pl.when(pl.col("nc_year_age_gap").abs() <= 2).then(pl.col("nc_year_age_gap")))
        f = f.drop("dob_date")
    if source == "census" and "census_date" in f.columns:
        f = f.with_columns(_out_of_use(c) for c in cs.CBDS_SEEDS if c in f.columns)
    if source == "census":
        # the DOB as written: typing already reported unreadable dates; this catches missing ones
        f = f.join(table.raw.frame.select("row_number", pl.col(table.columns["dob"]).alias("dob")), on="row_number", how="left")
    if source == "ofsted_inspections":
        f = _prepare_ofsted(f, today)
    if source == "exclusions":
        f = _prepare_exclusions(f, today)
    if source == "post16_activity":
        f = f.with_columns(snapshot_days_after_today=(pl.col("snapshot_date") - pl.lit(today)).dt.total_days(),
                           activity_starts_after_snapshot=pl.col("activity_start_date") > pl.col("snapshot_date"))
    if source in ("early_years_census", "eligible_two_year_olds"):
        f = _prepare_early_years(f, today)
    if source == "attendance":
        f = f.with_columns(absence_sessions=pl.col("authorised_absence_sessions") + pl.col("unauthorised_absence_sessions"))
    return f


def _prepare_early_years(f: pl.DataFrame, today: date) -> pl.DataFrame:
    """docs/methodology.md#funded-early-education: the postcode placed in a sector, each basis of a
    two-year-old's funding one of the census's, the census or list date against today."""
    from ingest.early_years import TWO_YEAR_OLD_BASES

    f = f.with_columns(postcode_valid=pl.col("home_postcode").is_null() | pl.col("postcode_sector").is_not_null())
    for day in ("census_date", "list_date"):
        if day in f.columns:
            # a date in a year not yet begun is that year's finding (academic_year_in_future), not a second one
            ahead = pl.col("academic_years_ahead") > 0 if "academic_years_ahead" in f.columns else pl.lit(False)
            f = f.with_columns(pl.when(~ahead).then((pl.col(day) - pl.lit(today)).dt.total_days())
                               .alias(f"{day}_days_after_today"))
    if "two_year_old_basis" in f.columns:
        parts = pl.col("two_year_old_basis").str.split(";").list.eval(pl.element().str.strip_chars())
        f = f.with_columns(basis_valid=pl.col("two_year_old_basis").is_null()
                           | parts.list.eval(pl.element().is_in(list(TWO_YEAR_OLD_BASES))).list.all())
    return f


def _prepare_ofsted(f: pl.DataFrame, today: date) -> pl.DataFrame:
    """Long Ofsted rows: which file column each grade came from (``subject``, so findings name it) and
    whether the grade is one of its framework's (docs/methodology.md#ofsted-inspections)."""
    valid = cs.ofsted_grade_codes()
    return f.with_columns(
        subject=pl.col("column"),
        publication_days_after_today=(pl.col("publication_date") - pl.lit(today)).dt.total_days(),
        grade_is_valid=pl.struct("framework", "judgement", "grade").map_elements(
            lambda r: (r["grade"] or "").strip().lower() in valid.get((r["framework"], r["judgement"]), set()),
            return_dtype=pl.Boolean))


def _prepare_exclusions(f: pl.DataFrame, today: date) -> pl.DataFrame:
    """What the exclusion rules need (docs/methodology.md#exclusions): what the category counts as,
    whether each reason code was in use in the exclusion's year, a suspension's sessions, the start
    date against today and the census it was returned on."""
    counted = cs.exclusion_categories()
    reasons = cs.exclusion_reasons()

    def in_use(code, year) -> bool:
        if code is None:
            return True
        if code not in reasons:
            return True  # an unknown code is its own finding (exclusion_reason)
        first, last = reasons[code]
        return year is None or ((first is None or year >= first) and (last is None or year <= last))

    cat = pl.col("exclusion_category").replace_strict(counted, default=None)
    out = f.with_columns(
        counted_as=cat,
        start_days_after_today=(pl.col("exclusion_start_date") - pl.lit(today)).dt.total_days(),
        starts_after_census=pl.col("exclusion_start_date") > pl.col("census_date"),
        reason_given=pl.when(cat.is_in(["permanent", "suspension"])).then(pl.col("exclusion_reason").is_not_null()),
        suspension_sessions=pl.when(cat == "suspension").then(pl.col("exclusion_sessions").fill_null(0)),
    )
    for c in ("exclusion_reason", "exclusion_reason_2", "exclusion_reason_3"):
        out = out.with_columns(pl.struct(c, "academic_year").map_elements(
            lambda r, c=c: in_use(r[c], r["academic_year"]), return_dtype=pl.Boolean).alias(f"{c}_in_use"))
    return out


def _out_of_use(column: str) -> pl.Expr:
    """True where the row's code is one the CBDS code set dates put out of force on its census date."""
    day = pl.col("census_date")
    expr = pl.lit(False)
    for code, (start, end) in cs.in_use(column).items():
        if start is None and end is None:
            continue
        outside = pl.lit(False)
        if start is not None:
            outside = outside | (day < pl.lit(start))
        if end is not None:
            outside = outside | (day > pl.lit(end))
        expr = pl.when(pl.col(column) == code).then(outside).otherwise(expr)
    return expr.alias(f"{column}_out_of_use")


def validate_table(table: CanonicalTable, context: ValidationContext | None = None) -> list[Finding]:
    """All findings for one upload: typing problems found while reading, then every GE rule."""
    return validate_tables([table], context)[0]


def validate_tables(tables: list[CanonicalTable], context: ValidationContext | None = None) -> list[list[Finding]]:
    """Findings for each of several uploads, validated together.

    Uploads of the same source (and stage) with the same columns share one GE run over their
    rows stacked with an ``upload`` column: GE's fixed cost per run (building and resolving
    the metric graph for every expectation) is paid once per batch rather than once per file,
    which is most of the time on a borough's 99 files. Rules stay per upload: uniqueness is
    within an upload and each finding goes back to its own file and row. A rule that cannot run
    on a batch is run again on each file alone, so only the file it fails on is blamed.
    """
    from expectations.suites import rules_for  # imports GE: only when something is validated

    context = context or ValidationContext()
    findings: list[list[Finding]] = [list(t.findings) for t in tables]
    groups: dict[tuple, list[int]] = {}
    prepared: dict[int, pl.DataFrame] = {}
    for i, t in enumerate(tables):
        if t.frame.height == 0 and t.errors:
            continue  # nothing typed to check: the typing findings say why
        prepared[i] = _prepare(t, 0, context.today)
        groups.setdefault((t.source.name, t.source.stage, tuple(sorted(prepared[i].columns))), []).append(i)
    for (source, stage, columns), members in groups.items():
        rules = [r for r in rules_for(source, stage, context.known_laestabs) if _columns_present(r, list(columns))]
        if rules:
            for i, found in zip(members, _run_ge([tables[i] for i in members], [prepared[i] for i in members], rules)):
                typed = {(f.row, f.column) for f in findings[i]}  # a cell that failed typing is reported once
                findings[i] += [f for f in found if (f.row, f.column) not in typed]
    for i, t in enumerate(tables):
        findings[i] += _cross_file(t, context)
    for i, clashes in enumerate(_identity_clashes(tables, context)):
        findings[i] += clashes
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


class RuleCrashed(Exception):
    """A rule could not run on a batch of several uploads (the caller tries each alone)."""


def _run_ge(tables: list[CanonicalTable], prepared: list[pl.DataFrame], rules: list) -> list[list[Finding]]:
    import great_expectations as gx

    frame = pl.concat([p.with_columns(upload=pl.lit(i, dtype=pl.Int32)) for i, p in enumerate(prepared)],
                      how="vertical_relaxed")
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
    if len(tables) > 1 and any(r.exception_info and r.exception_info.get("raised_exception") for r in result.results):
        # find the upload the rule cannot run on: each alone, so the others are judged on their own
        return [_run_ge([t], [p], rules)[0] for t, p in zip(tables, prepared)]
    findings: list[list[Finding]] = [[] for _ in tables]
    cells = [_Cells(t, p) for t, p in zip(tables, prepared)]
    for r in result.results:
        meta = r.expectation_config.meta or {}
        kwargs = r.expectation_config.kwargs
        rule = meta.get("rule", r.expectation_config.type)
        if r.exception_info and r.exception_info.get("raised_exception"):
            t = tables[0]
            column = kwargs.get("column") or kwargs.get("column_A")
            findings[0].append(Finding(t.path.name, None, t.columns.get(column, column), None, "rule_crashed", "error",
                                       f"the rule '{rule}' could not run on this file: "
                                       f"{str(r.exception_info.get('exception_message'))[:300]}",
                                       "send the report to the Pathways maintainers"))
            continue
        if r.success:
            continue
        blame = _blame(meta, kwargs, tables[0])
        by_upload: dict[int, list[dict]] = {}
        for item in r.result.get("unexpected_index_list") or []:
            listed = by_upload.setdefault(int(item["upload"]), [])
            if len(listed) < MAX_ROWS_PER_RULE:
                listed.append(item)
        for i, items in by_upload.items():
            findings[i] += cells[i].findings(items, rule, meta, kwargs, _blame(meta, kwargs, tables[i]) or blame)
    return findings


def _blame(meta: dict, kwargs: dict, table: CanonicalTable) -> str:
    """The column a finding points at: the rule's own, or the one its meta names (the first the file has)."""
    blame = meta.get("blame")
    if isinstance(blame, list):
        return next((b for b in blame if b in table.columns), blame[-1])
    if blame:
        return blame
    return kwargs.get("column") or kwargs.get("column_A") or next(iter(_shown(kwargs.get("column_list"))), "")


def _shown(columns: list[str] | None) -> list[str]:
    """Columns as the data lead knows them: ``upload`` only tells uploads of a batch apart."""
    return [c for c in columns or [] if c != "upload"]


class _Cells:
    """The cells of one upload as the file writes them, looked up by file row for the rows a rule failed."""

    def __init__(self, table: CanonicalTable, prepared: pl.DataFrame):
        self.table, self.prepared = table, prepared
        self._raw: dict[str, dict[int, str | None]] = {}

    def header(self, column: str, subject: str | None = None) -> str:
        """The column as the file names it (for long attainment rows, the subject's own column)."""
        t = self.table
        if column == "result" and t.source.name == "attainment":
            return t.subject_headers.get(subject, t.columns.get("grade", "result"))
        if column in ("grade", "grade_date") and t.source.name == "ofsted_inspections" and subject:
            # a long Ofsted row: the grade (or its date) is the judgement's own column in the file
            col = subject if column == "grade" else f"{subject}_date"
            return t.subject_headers.get(col, t.columns.get(col, column))
        return t.columns.get(column, column)

    def raw(self, header: str, row: int | None) -> str | None:
        if row is None or header not in self.table.raw.frame.columns:
            return None
        if header not in self._raw:
            self._raw[header] = dict(self.table.raw.frame.select("row_number", header).iter_rows())
        return self._raw[header].get(row)

    def findings(self, items: list[dict], rule: str, meta: dict, kwargs: dict, blame: str) -> list[Finding]:
        t = self.table
        rows = [int(i["row_number"]) for i in items if i.get("row_number") is not None]
        show = [c for c in meta.get("show", []) if c in self.prepared.columns or c in t.columns]
        derived = [c for c in show if c not in t.columns]
        extra: dict[int, dict] = {}
        if derived:
            extra = {r["row_number"]: r for r in self.prepared.filter(pl.col("row_number").is_in(rows))
                     .select("row_number", *derived).unique("row_number").iter_rows(named=True)}
        out = []
        for item in items:
            row = int(item["row_number"]) if item.get("row_number") is not None else None
            subject = item.get("subject")
            header = self.header(blame, subject)
            in_file = header in t.raw.frame.columns
            value = self.raw(header, row) if in_file else _value(item, blame, kwargs)
            parts = []
            for c in show:
                if c in t.columns:
                    cell = self.raw(self.header(c, subject), row)
                    parts.append(f"{self.header(c, subject)} {cell!r}" if cell is not None else f"{self.header(c, subject)} blank")
                elif extra.get(row, {}).get(c) is not None:
                    label = DERIVED_LABELS.get(c, c.replace("_", " "))
                    parts.append(f"{label} {extra[row][c]}".strip())
            out.append(Finding(t.path.name, row, header, value, rule, meta.get("severity", "error"),
                               meta.get("message", rule), meta.get("fix", ""), "; ".join(parts) or None))
        return out


def _value(item: dict, column: str, kwargs: dict) -> str | None:
    if kwargs.get("column_list"):
        return ", ".join(f"{c}={item.get(c)}" for c in _shown(kwargs["column_list"]))
    return _show(item.get(column))


def _show(v) -> str | None:
    if v is None or v != v:  # v != v: NaN
        return None
    if hasattr(v, "strftime"):
        return v.strftime("%d/%m/%Y")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _cross_file(table: CanonicalTable, context: ValidationContext) -> list[Finding]:
    out: list[Finding] = []
    name = table.path.name
    f = table.frame
    if f.height == 0:
        return out
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


def batch_identities(tables: list[CanonicalTable], key: bytes) -> pl.DataFrame:
    """Who each row of the batch says its pupil is, as keyed hashes (no name or date of birth kept):
    upload, row_number, upn, pupil_key, laestab, dob_hash, name_hash."""
    from ingest.identifiers import pseudonymise

    parts = []
    for i, t in enumerate(tables):
        if t.identity is None or t.frame.height == 0 or "laestab" not in t.frame.columns:
            continue
        schools = t.frame.select("row_number", pl.col("laestab").cast(pl.Int64)).unique("row_number")
        ident = (t.identity.select("row_number", "upn").join(t.identity_hashes(key), on="row_number")
                 .join(schools, on="row_number", how="inner"))
        parts.append(ident.with_columns(upload=pl.lit(i), pupil_key=pseudonymise(ident["upn"], key)))
    if not parts:
        return pl.DataFrame(schema={"row_number": pl.Int64, "upn": pl.String, "laestab": pl.Int64, "dob_hash": pl.String,
                                    "name_hash": pl.String, "upload": pl.Int32, "pupil_key": pl.String})
    return pl.concat(parts, how="vertical_relaxed").filter(pl.col("upn").is_not_null())


def _identity_clashes(tables: list[CanonicalTable], context: ValidationContext) -> list[list[Finding]]:
    """The same UPN on a pupil with a different date of birth or name at another school: in this batch
    or in the warehouse (docs/methodology.md#identity-check). A warning: one of the two records has
    the wrong UPN, or the pupil's details differ between schools; either way a data lead should look."""
    out: list[list[Finding]] = [[] for _ in tables]
    if not context.key:
        return out
    mine = context.batch_identities if context.batch_identities is not None else batch_identities(tables, context.key)
    if mine.height == 0:
        return out
    names = [t.path.name for t in tables]
    others = mine.select("pupil_key", "laestab", "dob_hash", "name_hash",
                         pl.col("upload").replace_strict(dict(enumerate(names)), return_dtype=pl.String).alias("source_file"),
                         "row_number")
    if context.identities is not None and context.identities.height:
        others = pl.concat([others, context.identities.select(others.columns)], how="vertical_relaxed")
    others = others.unique(["pupil_key", "laestab", "dob_hash", "name_hash"])
    pairs = (mine.join(others, on="pupil_key", suffix="_other")
             .filter(pl.col("laestab") != pl.col("laestab_other"))
             .with_columns(dob_differs=pl.col("dob_hash").is_not_null() & pl.col("dob_hash_other").is_not_null()
                           & (pl.col("dob_hash") != pl.col("dob_hash_other")),
                           name_differs=pl.col("name_hash").is_not_null() & pl.col("name_hash_other").is_not_null()
                           & (pl.col("name_hash") != pl.col("name_hash_other")))
             .filter(pl.col("dob_differs") | pl.col("name_differs"))
             .sort("upload", "row_number", "laestab_other")
             .unique(["upload", "row_number"], keep="first", maintain_order=True))
    for p in pairs.iter_rows(named=True):
        i = p["upload"]
        if len(out[i]) >= MAX_ROWS_PER_RULE:
            continue
        t = tables[i]
        what = " and ".join(w for w, d in (("date of birth", p["dob_differs"]), ("name", p["name_differs"])) if d)
        out[i].append(Finding(
            t.path.name, p["row_number"], t.columns.get("upn", "UPN"), p["upn"], "upn_identity_clash", "warning",
            "the same UPN is on a pupil with a different date of birth or name at another school",
            "check the UPN against the pupil's record: if these are two pupils, one UPN is wrong; if one pupil, "
            "correct their details at the school that has them wrong",
            f"{what} differ from LAESTAB {p['laestab_other']}'s record ({p['source_file']}, row {p['row_number_other']})"))
    return out
