"""Turn a read table into the canonical frame of its source.

Headers become canonical names (``sources.ALIASES``), text becomes typed values, and every
value that cannot be typed becomes a ``Finding`` naming its row, column and rule, so nothing
fails silently and nothing fails a whole file for one bad cell. Pupil identity is reduced
here to what the warehouse may hold: the UPN (pseudonymised on load) and age in months at
31 August; names and dates of birth stay in the archived upload.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ingest.exclusions import exclusion_term
from ingest.findings import (
    NO_DATA_ROWS,
    REPEATED_COLUMN,
    REQUIRED_COLUMN,
    SOURCE_UNKNOWN,
    UNKNOWN_COLUMN,
    UNUSED_COLUMN,
    WARNING,
    Finding,
    file_finding,
)
from ingest.gias import is_published_column
from ingest.ofsted import EIF, LATEST_EIF, REPORT_CARD, REPORT_CARD_AREAS, published_columns
from ingest.readers import RawTable, UnreadableFile, read_headers, read_table
from ingest.sources import EYFSP_GOALS, Source, canonical_header, detect_source, normalise_header, sources_named

__all__ = ["CanonicalTable", "Finding", "canonicalise", "peek_source", "restrict_to_authority"]

TERMS = ("autumn", "spring", "summer")
IDENTITY_COLUMNS = ("upn", "dob", "surname", "forename")


@dataclass
class CanonicalTable:
    source: Source
    path: Path
    frame: pl.DataFrame           # canonical columns + row_number
    findings: list[Finding]
    raw: RawTable
    columns: dict[str, str]       # canonical -> header as written in the file
    subject_headers: dict[str, str] = field(default_factory=dict)  # attainment subject -> header in the file
    # who each row is, as far as the file says (row_number, upn, dob as a date, surname, forename): for the
    # age rules and the identity check; never loaded (the warehouse keeps keyed hashes of it only)
    identity: pl.DataFrame | None = None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def identity_hashes(self, key: bytes) -> pl.DataFrame | None:
        """row_number, dob_hash, name_hash (ingest.identifiers.identity_hashes), computed once per key:
        validation and the load both need them."""
        if self.identity is None:
            return None
        cached = getattr(self, "_hashes", None)
        if cached is None or cached[0] != key:
            from ingest.identifiers import identity_hashes

            cached = (key, pl.concat([self.identity.select("row_number"), identity_hashes(self.identity, key)],
                                     how="horizontal"))
            self._hashes = cached
        return cached[1]


def peek_source(path: Path) -> Source | None:
    """Which source a file holds, from its headers alone (None when unknown)."""
    headers = read_headers(path)
    present: set[str] = set()
    for h in headers:
        c = canonical_header(h, {canonical_header(x) for x in headers if x != h} - {None})
        if c:
            present.add(c)
    return detect_source(present)


def canonicalise(path: Path, source_name: str | None = None, sheet: str | None = None) -> CanonicalTable:
    path = Path(path)
    raw = read_table(path, sheet)
    columns: dict[str, str] = {}
    known: set[str] = set()
    for h in raw.frame.columns:
        if h == "row_number":
            continue
        c = canonical_header(h, known | {canonical_header(x) for x in raw.frame.columns if x != h} - {None})
        if c and c not in columns:
            columns[c] = h
            known.add(c)
    present = set(columns)
    if source_name:
        candidates = [s for s in sources_named(source_name.replace("-", "_")) if set(s.required) <= present]
        source = max(candidates, key=lambda s: len(s.required)) if candidates else None
        if source is None:
            wanted = sources_named(source_name.replace("-", "_"))
            if not wanted:
                raise UnreadableFile(path, f"unknown source '{source_name}'")
            best = min(wanted, key=lambda s: len(set(s.required) - present))
            missing = sorted(set(best.required) - present)
            findings = [Finding(path.name, raw.header_row, m, None, REQUIRED_COLUMN, "error",
                                f"required column '{m}' is missing",
                                f"add a column headed '{_spelling(m)}' (or a known alias)") for m in missing]
            return CanonicalTable(best, path, pl.DataFrame(), findings, raw, columns)
    else:
        source = detect_source(present)
        if source is None:
            _refuse_near_miss(path, raw, present)
            raise UnreadableFile(path, "cannot tell which source this is from its headers "
                                       f"({', '.join(c for c in raw.frame.columns if c != 'row_number')[:300]})",
                                 SOURCE_UNKNOWN, "check the header row is the first row and uses the column names "
                                                 "in the README (or name the source with --source)")
    notes = _column_notes(path.name, raw, source, columns)
    if raw.frame.height == 0:
        return CanonicalTable(source, path, pl.DataFrame(), [file_finding(
            path.name, NO_DATA_ROWS, "the file has a header row but no data rows",
            "export the data again: the file holds no pupils or schools", row=raw.header_row)] + notes, raw, columns)
    frame = raw.frame.select("row_number", *[pl.col(h).alias(c) for c, h in columns.items()])
    if "upn" in frame.columns:  # a UPN is capitals and digits; a lower-case or spaced copy is the same UPN
        frame = frame.with_columns(upn=pl.col("upn").str.replace_all(r"\s", "").str.to_uppercase())
    builder = _BUILDERS[source.stage or source.name]
    out, findings = builder(frame, path.name, columns)
    subjects = STAGE_SUBJECTS.get(source.stage or "", {})
    subject_headers = {subject: columns[c] for c, subject in subjects.items() if c in columns}
    if source.name == "ofsted_inspections":  # long rows: each grade's own column in the file
        subject_headers = dict(columns)
    identity = None
    if "upn" in columns:
        identity = frame.select("row_number", *[c for c in IDENTITY_COLUMNS if c in frame.columns])
        identity = _ensure(identity.with_columns(dob=_date("dob")) if "dob" in identity.columns else identity,
                           ["row_number", *IDENTITY_COLUMNS])
    return CanonicalTable(source, path, out, findings + notes, raw, columns, subject_headers, identity)


def _refuse_near_miss(path: Path, raw: RawTable, present: set[str]) -> None:
    """A file with most of one source's required columns is that source missing some: say which."""
    from ingest.sources import SOURCES

    def share(s: Source) -> float:
        return len(set(s.required) & present) / len(s.required)

    best = max(SOURCES, key=lambda s: (share(s), len(s.required)))
    if len(set(best.required) & present) < 3 or share(best) < 0.5:
        return
    missing = sorted(set(best.required) - present)
    findings = [file_finding(path.name, REQUIRED_COLUMN, f"required column '{_spelling(m)}' is missing",
                             f"add a column headed '{_spelling(m)}' (or a known alias: "
                             f"{', '.join(_aliases(m)[:4])})", row=raw.header_row, column=_spelling(m)) for m in missing]
    raise UnreadableFile(path, f"this looks like a {best.label} file but has no {', '.join(_spelling(m) for m in missing)} "
                               "column", REQUIRED_COLUMN, findings[0].fix, findings)


def _aliases(canonical: str) -> list[str]:
    from ingest.sources import ALIASES

    return ALIASES.get(canonical, [canonical])


def _column_notes(file: str, raw: RawTable, source: Source, columns: dict[str, str]) -> list[Finding]:
    """Warnings for the columns a file has that will not be loaded (nothing is dropped silently)."""
    used = set(columns.values())
    wanted = set(source.required) | set(source.optional)
    notes = []
    headers = [h for h in raw.frame.columns if h != "row_number"]
    gias = source.name in ("school_links",) or "la_code" in source.required
    ofsted = published_columns() if source.name == "ofsted_inspections" else set()
    for h in headers:
        canonical = canonical_header(h, set(columns))
        if h in used and canonical in wanted:
            continue
        if gias and is_published_column(h):
            continue  # one of GIAS's own published columns: not a mistake in the file
        if normalise_header(h) in ofsted:
            continue  # one of Ofsted's own published columns
        if canonical is None:
            rule, message = UNKNOWN_COLUMN, "Pathways does not know this column: it is not loaded"
            fix = "nothing to do if the column is not needed; if it should be read, rename it to a name in the README"
        elif canonical not in wanted:
            rule, message = UNUSED_COLUMN, f"this column is not used for {source.label} files: it is not loaded"
            fix = "nothing to do if the column is not needed"
        else:
            rule, message = REPEATED_COLUMN, f"this column means the same as '{columns.get(canonical)}', which is used"
            fix = "remove one of the two columns, so it is clear which to use"
        first = raw.frame[h].drop_nulls().head(1).to_list()
        notes.append(file_finding(file, rule, message, fix, row=raw.header_row, column=h, value=first[0] if first else None,
                                  detail="first value in the column" if first else "the column is empty", severity=WARNING))
    return notes


def _spelling(canonical: str) -> str:
    from ingest.sources import ALIASES

    return ALIASES.get(canonical, [canonical])[0]


# ---------------------------------------------------------------------------------------------
# typing helpers: each returns (expression, rule name, fix) and findings are collected per column

def _date(col: str) -> pl.Expr:
    c = pl.col(col).str.replace(r"[ T]00:00:00(\.0+)?$", "")
    parsed = pl.coalesce(
        c.str.strptime(pl.Date, "%d/%m/%Y", strict=False),
        c.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
        c.str.strptime(pl.Date, "%d-%m-%Y", strict=False),
        c.str.strptime(pl.Date, "%d.%m.%Y", strict=False),
    )
    # a four-digit year only: "05/10/202" (a date cut short) or "5/1/23" is not a date in year 202 or 23
    return pl.when(c.str.contains(r"^(\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}-\d{1,2}-\d{1,2})$")).then(parsed)


def _int(col: str) -> pl.Expr:
    return pl.col(col).str.replace(r"\.0+$", "").cast(pl.Int64, strict=False)


def _laestab(col: str = "laestab") -> pl.Expr:
    """LAESTAB as a number; "372/2001" and "372-2001" (as GIAS and many returns write it) are 3722001."""
    return _int(col).fill_null(pl.col(col).str.replace(r"^(\d{3})\s*[/-]\s*(\d{4})$", "${1}${2}").cast(pl.Int64, strict=False))


def _bool(col: str) -> pl.Expr:
    v = pl.col(col).str.to_lowercase()
    return (pl.when(v.is_in(["y", "yes", "true", "t", "1"])).then(True)
            .when(v.is_in(["n", "no", "false", "f", "0"])).then(False).otherwise(None))


def _academic_year(col: str) -> pl.Expr:
    v = pl.col(col).str.replace_all(r"\s", "")
    start = v.str.extract(r"^(20\d\d)(?:[/-]?(?:\d\d|20\d\d))?$", 1).cast(pl.Int64, strict=False)
    return start


def _term(col: str) -> pl.Expr:
    v = pl.col(col).str.to_lowercase()
    return pl.when(v.is_in(list(TERMS))).then(v).otherwise(None)


def _upper(col: str) -> pl.Expr:
    return pl.col(col).str.to_uppercase()


def _typed(frame: pl.DataFrame, file: str, columns: dict[str, str], spec: dict[str, tuple[pl.Expr, str, str]]
           ) -> tuple[pl.DataFrame, list[Finding]]:
    """Apply typing expressions; a non-empty cell that types to null becomes an error finding."""
    exprs = []
    checks = []
    for col, (expr, rule, fix) in spec.items():
        if col not in frame.columns:
            continue
        exprs.append(expr.alias(col))
        checks.append((col, rule, fix))
    typed = frame.with_columns(exprs)
    findings: list[Finding] = []
    for col, rule, fix in checks:
        bad = frame.select("row_number", pl.col(col).alias("value")).filter(
            pl.col("value").is_not_null() & typed[col].is_null())
        for r in bad.head(1000).iter_rows(named=True):
            findings.append(Finding(file, r["row_number"], columns.get(col, col), r["value"], rule, "error",
                                    f"'{r['value']}' is not a valid {rule.replace('_', ' ')}", fix))
    return typed, findings


def _age_months(dob: str = "dob") -> pl.Expr:
    # age in whole months at 31 August of the academic year's start (enough downstream; DOB is not kept)
    return ((pl.col("academic_year") - pl.col(dob).dt.year()) * 12 + (8 - pl.col(dob).dt.month())).cast(pl.Int32)


DATE_FIX = "write dates as DD/MM/YYYY"
YEAR_FIX = "write the academic year as 2023/24"


def _census(frame, file, columns):
    spec = {
        "census_date": (_date("census_date"), "date", DATE_FIX),
        "dob": (_date("dob"), "date", DATE_FIX),
        "entry_date": (_date("entry_date"), "date", DATE_FIX),
        "laestab": (_laestab(), "laestab_number", "LAESTAB is 7 digits: LA code then establishment number"),
        "fsm_eligible": (_bool("fsm_eligible"), "yes_no_value", "use Yes or No"),
    }
    t, findings = _typed(frame, file, columns, spec)
    d = pl.col("census_date")
    t = t.with_columns(
        academic_year=pl.when(d.dt.month() >= 8).then(d.dt.year()).otherwise(d.dt.year() - 1),
        term=pl.when(d.dt.month().is_between(8, 12)).then(pl.lit("autumn"))
        .when(d.dt.month().is_between(1, 3)).then(pl.lit("spring")).otherwise(pl.lit("summer")),
        nc_year=_nc_year("nc_year"),
        sex=_upper("sex"), ethnicity=_upper("ethnicity"), enrol_status=_upper("enrol_status"),
        sen_provision=_upper("sen_provision") if "sen_provision" in t.columns else pl.lit(None, pl.String),
        sen_primary_need=_upper("sen_primary_need") if "sen_primary_need" in t.columns else pl.lit(None, pl.String),
        first_language=_upper("first_language") if "first_language" in t.columns else pl.lit(None, pl.String),
    )
    t = t.with_columns(age_months_at_31_august=_age_months())
    return _ensure(t, ["row_number", "academic_year", "term", "census_date", "laestab", "upn", "uln", "age_months_at_31_august",
                       "sex", "ethnicity", "first_language", "nc_year", "enrol_status", "entry_date", "fsm_eligible",
                       "sen_provision", "sen_primary_need"]), findings


def _nc_year(col: str) -> pl.Expr:
    v = pl.col(col).str.to_uppercase().str.replace(r"^(YEAR|Y)\s*", "").str.replace(r"^0+(\d)", "${1}")
    return pl.when(v == "RECEPTION").then(pl.lit("R")).otherwise(v)


def _attendance(frame, file, columns):
    fix = "sessions are whole numbers of half-days"
    spec = {
        "academic_year": (_academic_year("academic_year"), "academic_year", YEAR_FIX),
        "term": (_term("term"), "term", "use Autumn, Spring or Summer"),
        "laestab": (_laestab(), "laestab_number", "LAESTAB is 7 digits"),
        "dob": (_date("dob"), "date", DATE_FIX),
        "possible_sessions": (_int("possible_sessions"), "whole_number", fix),
        "authorised_absence_sessions": (_int("authorised_absence_sessions"), "whole_number", fix),
        "unauthorised_absence_sessions": (_int("unauthorised_absence_sessions"), "whole_number", fix),
    }
    t, findings = _typed(frame, file, columns, spec)
    if "dob" in t.columns:
        t = t.with_columns(age_months_at_31_august=_age_months())
    return _ensure(t, ["row_number", "academic_year", "term", "laestab", "upn", "age_months_at_31_august", "possible_sessions",
                       "authorised_absence_sessions", "unauthorised_absence_sessions"]), findings


def _pupil_premium(frame, file, columns):
    yn = "use Y or N"
    spec = {
        "academic_year": (_academic_year("academic_year"), "academic_year", YEAR_FIX),
        "laestab": (_laestab(), "laestab_number", "LAESTAB is 7 digits"),
        "dob": (_date("dob"), "date", DATE_FIX),
        **{c: (_bool(c), "yes_no_value", yn) for c in ("ever6_fsm", "looked_after", "previously_looked_after", "service_child")},
    }
    t, findings = _typed(frame, file, columns, spec)
    t = _ensure(t, ["row_number", "academic_year", "laestab", "upn", "ever6_fsm", "looked_after",
                    "previously_looked_after", "service_child"])
    return t.with_columns(pl.col(c).cast(pl.Boolean).fill_null(False) for c in
                          ("looked_after", "previously_looked_after", "service_child")), findings


def _attainment(stage: str, subjects: dict[str, str], nc_year: str | None = None):
    """Wide attainment files become long rows: one per pupil per subject, result kept as written."""
    def build(frame, file, columns):
        spec = {
            "academic_year": (_academic_year("academic_year"), "academic_year", YEAR_FIX),
            "laestab": (_laestab(), "laestab_number", "LAESTAB is 7 digits"),
            "dob": (_date("dob"), "date", DATE_FIX),
        }
        t, findings = _typed(frame, file, columns, spec)
        if "dob" in t.columns:
            t = t.with_columns(age_months_at_31_august=_age_months())
        t = t.with_columns(nc_year=_nc_year("nc_year") if "nc_year" in t.columns else pl.lit(nc_year, pl.String))
        id_cols = ["row_number", "academic_year", "laestab", "upn", "age_months_at_31_august", "nc_year"]
        t = _ensure(t, id_cols + [c for c in subjects if c in t.columns] + ["subject_name", "ebacc_pillar"])
        present = [c for c in subjects if c in t.columns]
        long = (t.unpivot(index=id_cols + ["subject_name", "ebacc_pillar"], on=present, variable_name="subject", value_name="result")
                .with_columns(subject=pl.col("subject").replace_strict(subjects), result=pl.col("result").str.to_uppercase(),
                              stage=pl.lit(stage)))
        return long.select("row_number", "academic_year", "stage", "laestab", "upn", "age_months_at_31_august", "nc_year",
                           "subject", "result", "subject_name", "ebacc_pillar").sort("row_number", "subject"), findings
    return build


def _ks4(frame, file, columns):
    frame = frame.rename({"subject_code": "subject_code_"})
    build = _attainment("ks4", {"grade": "grade"}, "11")
    long, findings = build(frame, file, columns)
    codes = frame.select("row_number", pl.col("subject_code_").str.to_uppercase().alias("code"))
    long = long.join(codes, on="row_number", how="left").with_columns(subject=pl.col("code")).drop("code")
    return long.select("row_number", "academic_year", "stage", "laestab", "upn", "age_months_at_31_august", "nc_year",
                       "subject", "result", "subject_name", "ebacc_pillar"), findings


def _schools(frame, file, columns):
    spec = {
        "urn": (_int("urn"), "urn_number", "URN is 6 digits"),
        "laestab": (_laestab(), "laestab_number", "LAESTAB is 7 digits"),
        "la_code": (_int("la_code"), "la_code_number", "the LA code is 3 digits (as GIAS writes it)"),
        "establishment_number": (_int("establishment_number"), "establishment_number",
                                 "the establishment number is 4 digits (as GIAS writes it)"),
        "open_date": (_date("open_date"), "date", DATE_FIX),
        "close_date": (_date("close_date"), "date", DATE_FIX),
        "predecessor_urn": (_int("predecessor_urn"), "urn_number", "URN is 6 digits"),
    }
    t, findings = _typed(frame, file, columns, spec)
    if "laestab" not in t.columns and {"la_code", "establishment_number"} <= set(t.columns):
        # a GIAS extract: LAESTAB is the LA code then the establishment number (docs/methodology.md#laestab)
        t = t.with_columns(laestab=pl.col("la_code") * 10000 + pl.col("establishment_number"))
    t = _ensure(t, ["row_number", "urn", "laestab", "school_name", "phase", "establishment_type",
                    "learning_community_code", "collaborative", "open_date", "close_date", "predecessor_urn",
                    "la_code"]).with_columns(pl.col("predecessor_urn", "la_code").cast(pl.Int64))
    if "la_code" in columns and "learning_community_code" not in columns:
        t = t.drop("learning_community_code")  # a GIAS extract: the membership file says each school's community
    return t, findings


def _school_links(frame, file, columns):
    spec = {
        "urn": (_int("urn"), "urn_number", "URN is 6 digits"),
        "link_urn": (_int("link_urn"), "urn_number", "URN is 6 digits"),
        "link_established_date": (_date("link_established_date"), "date", DATE_FIX),
    }
    t, findings = _typed(frame, file, columns, spec)
    return _ensure(t, ["row_number", "urn", "link_urn", "link_name", "link_type", "link_established_date"]), findings


def _community_membership(frame, file, columns):
    spec = {
        "urn": (_int("urn"), "urn_number", "URN is 6 digits"),
        "laestab": (_laestab(), "laestab_number", "LAESTAB is 7 digits"),
    }
    t, findings = _typed(frame, file, columns, spec)
    t = _ensure(t, ["row_number", "urn", "laestab", "learning_community_code"])
    return t.with_columns(pl.col("urn", "laestab").cast(pl.Int64)), findings


OTHER_AUTHORITIES = "other_authority_establishments"
NO_ESTABLISHMENT_NUMBER = "no_establishment_number"


def restrict_to_authority(table: CanonicalTable, la_code: int) -> CanonicalTable:
    """A GIAS extract covers every authority: keep the establishments of ``la_code`` and say how many
    others were left out (a count, as a warning the run log shows), and how many of the authority's
    have no establishment number (so no LAESTAB any upload could name: children's centres and the
    like). Other files come back unchanged."""
    if table.source.name == "ofsted_inspections":
        return _ofsted_to_authority(table, la_code)
    if table.source.name != "schools" or "la_code" not in table.columns or table.frame.height == 0:
        return table
    f = table.frame
    ours = f.filter(pl.col("la_code") == la_code)
    others = f.height - ours.height
    kept = ours.filter(pl.col("laestab").is_not_null())
    unnumbered = ours.height - kept.height
    notes = []
    header = table.columns["la_code"]
    if others:
        codes = f.filter(pl.col("la_code") != la_code)["la_code"].drop_nulls().n_unique()
        notes.append(file_finding(
            table.path.name, OTHER_AUTHORITIES,
            f"{others:,} establishments of {codes:,} other authorities ignored: only LA {la_code}'s "
            f"{kept.height:,} are loaded", "nothing to do: a GIAS extract lists every authority's establishments",
            row=table.raw.header_row, column=header, value=str(la_code), severity=WARNING,
            detail=f"{others:,} rows with another LA code, {kept.height:,} loaded"))
    if unnumbered:
        notes.append(file_finding(
            table.path.name, NO_ESTABLISHMENT_NUMBER,
            f"{unnumbered:,} of LA {la_code}'s establishments have no establishment number (so no LAESTAB) and are "
            "not loaded", "nothing to do unless one of them should receive pupil data",
            row=table.raw.header_row, column=table.columns.get("establishment_number"), severity=WARNING))
    # findings on rows left out are not this authority's problem
    rows = set(kept["row_number"].to_list())
    findings = [x for x in table.findings if x.row is None or x.row == table.raw.header_row or x.row in rows]
    table.frame = kept.drop("la_code")
    table.findings = findings + notes
    return table


def _ofsted_to_authority(table: CanonicalTable, la_code: int) -> CanonicalTable:
    """Ofsted's file covers England: keep the inspections of schools whose LAESTAB is in ``la_code``
    (a count of the others is a warning, as for a GIAS extract)."""
    f = table.frame
    if f.height == 0 or "laestab" not in table.columns:
        return table
    ours = f.filter((pl.col("laestab") // 10000 == la_code) | pl.col("laestab").is_null())
    others = f.filter(~pl.col("row_number").is_in(ours["row_number"].implode()))["row_number"].n_unique()
    if others:
        table.findings = [x for x in table.findings if x.row is None or x.row == table.raw.header_row
                          or x.row in set(ours["row_number"].to_list())]
        table.findings.append(file_finding(
            table.path.name, OTHER_AUTHORITIES, f"{others:,} schools of other authorities ignored: only LA {la_code}'s "
            f"{ours['row_number'].n_unique():,} are loaded", "nothing to do: Ofsted's file lists every school in England",
            row=table.raw.header_row, column=table.columns["laestab"], value=str(la_code), severity=WARNING))
    table.frame = ours
    return table


def _ofsted_inspections(frame, file, columns):
    """One row per judgement of each inspection the file row describes (ingest/ofsted.py): the latest
    full inspection (EIF grades or report-card areas) and, in the report-card layout, the latest graded
    EIF inspection when it is another one. Grades are kept as written, with their framework."""
    dates = ["inspection_start_date", "inspection_end_date", "publication_date", "eif_publication_date",
             *[f"rc_{a}_date" for a in REPORT_CARD_AREAS]]
    spec = {
        "urn": (_int("urn"), "urn_number", "URN is 6 digits"),
        "laestab": (_laestab(), "laestab_number", "LAESTAB is 7 digits"),
        **{d: (_date(d), "date", DATE_FIX) for d in dates},
    }
    t, findings = _typed(frame, file, columns, spec)
    t = _ensure(t, list(dict.fromkeys(["row_number", "urn", "laestab", "inspection_number", "inspection_type", *dates,
                                       "category_of_concern", "eif_category_of_concern",
                                       *[c for c in columns if c.startswith(("eif_", "rc_", "latest_eif_"))]])))
    t = t.with_columns(pl.col("urn", "laestab").cast(pl.Int64), pl.col(dates).cast(pl.Date))
    keys = ["row_number", "urn", "laestab"]
    # a row is a report card when any area is graded (the EIF columns are then absent or blank)
    is_card = pl.any_horizontal([pl.col(f"rc_{a}").is_not_null() for a in REPORT_CARD_AREAS if f"rc_{a}" in t.columns]
                                or [pl.lit(False)])
    latest = t.with_columns(framework=pl.when(is_card).then(pl.lit(REPORT_CARD)).otherwise(pl.lit(EIF)))
    parts = []

    def judgements(frame, framework, cols: dict[str, tuple[str, str | None]], inspection: dict[str, pl.Expr]):
        for judgement, (col, date_col) in cols.items():
            if col not in frame.columns:
                continue
            parts.append(frame.filter(pl.col(col).is_not_null()).select(
                *keys, **inspection, framework=pl.lit(framework), judgement=pl.lit(judgement),
                grade=pl.col(col).cast(pl.String),
                grade_date=pl.col(date_col) if date_col else pl.col("publication_date"), column=pl.lit(col)))

    full = {"inspection_number": pl.col("inspection_number"), "inspection_type": pl.col("inspection_type"),
            "inspection_start_date": pl.col("inspection_start_date"), "publication_date": pl.col("publication_date")}
    eif_cols = {j: (f"eif_{j}", None) for j in
                ("overall_effectiveness", "quality_of_education", "behaviour_and_attitudes", "personal_development",
                 "leadership_and_management", "safeguarding_effective", "early_years_provision", "sixth_form_provision")}
    judgements(latest.filter(pl.col("framework") == EIF), EIF,
               {**eif_cols, "category_of_concern": ("category_of_concern", None)}, full)
    judgements(latest.filter(pl.col("framework") == REPORT_CARD), REPORT_CARD,
               {**{a: (f"rc_{a}", f"rc_{a}_date" if f"rc_{a}_date" in t.columns else None) for a in REPORT_CARD_AREAS},
                "category_of_concern": ("category_of_concern", None)}, full)
    # the latest graded EIF inspection in the report-card layout's "Latest OEIF" columns: the latest full
    # inspection itself when their publication dates agree (its category of concern is then the full
    # inspection's), otherwise an earlier one, known by its publication date alone (no number or start date)
    if "eif_publication_date" in columns:
        eif = {j: (f"latest_eif_{j}", None) for j in LATEST_EIF}
        same = pl.col("eif_publication_date") == pl.col("publication_date")
        judgements(latest.filter(pl.col("eif_publication_date").is_not_null() & same.fill_null(False)), EIF, eif, full)
        nothing = pl.lit(None, pl.String)
        judgements(latest.filter(pl.col("eif_publication_date").is_not_null() & ~same.fill_null(False)), EIF,
                   {**eif, "category_of_concern": ("eif_category_of_concern", None)},
                   {"inspection_number": nothing, "inspection_type": nothing,
                    "inspection_start_date": pl.lit(None, pl.Date), "publication_date": pl.col("eif_publication_date")})
    cols = ["row_number", "urn", "laestab", "inspection_number", "inspection_type", "inspection_start_date",
            "publication_date", "framework", "judgement", "grade", "grade_date", "column"]
    if not parts:
        return pl.DataFrame(schema={c: pl.String for c in cols}).with_columns(
            pl.col("row_number", "urn", "laestab").cast(pl.Int64)), findings
    long = pl.concat(parts, how="vertical_relaxed").with_columns(
        grade=pl.col("grade").str.strip_chars().str.replace(r"\.0+$", ""))
    long = long.filter(pl.col("grade") != "")
    return long.select(cols).sort("row_number", "publication_date", "judgement"), findings


def _exclusions(frame, file, columns):
    """One row per exclusion as returned; its academic year and term come from its start date
    (ingest/exclusions.py), so a later census return of the same term supersedes the earlier."""
    spec = {
        "census_date": (_date("census_date"), "date", DATE_FIX),
        "exclusion_start_date": (_date("exclusion_start_date"), "date", DATE_FIX),
        "dob": (_date("dob"), "date", DATE_FIX),
        "laestab": (_laestab(), "laestab_number", "LAESTAB is 7 digits"),
        "exclusion_sessions": (_int("exclusion_sessions"), "whole_number", "sessions are whole numbers of half-days"),
    }
    t, findings = _typed(frame, file, columns, spec)
    t = _ensure(t, ["row_number", "census_date", "laestab", "upn", "dob", "exclusion_category", "exclusion_reason",
                    "exclusion_reason_2", "exclusion_reason_3", "exclusion_start_date", "exclusion_sessions"])
    t = t.with_columns(pl.col("census_date", "exclusion_start_date", "dob").cast(pl.Date),
                       pl.col("exclusion_sessions").cast(pl.Int64),
                       *[pl.col(c).cast(pl.String).str.strip_chars().str.to_uppercase().replace("", None)
                         for c in ("exclusion_category", "exclusion_reason", "exclusion_reason_2", "exclusion_reason_3")])
    when = pl.col("exclusion_start_date").map_elements(
        lambda d: {"y": exclusion_term(d)[0], "t": exclusion_term(d)[1]},
        return_dtype=pl.Struct({"y": pl.Int64, "t": pl.String}))
    t = t.with_columns(when.alias("_when")).with_columns(
        academic_year=pl.col("_when").struct.field("y"), term=pl.col("_when").struct.field("t")).drop("_when")
    t = t.with_columns(age_months_at_31_august=_age_months())
    return t.drop("dob"), findings


def _post16_activity(frame, file, columns):
    """One row per young person per month-end snapshot; the academic year is the snapshot's (August to
    July, as census dates file theirs), the academic age from the date of birth."""
    spec = {
        "snapshot_date": (_date("snapshot_date"), "date", DATE_FIX),
        "activity_start_date": (_date("activity_start_date"), "date", DATE_FIX),
        "dob": (_date("dob"), "date", DATE_FIX),
        "y11_laestab": (_laestab("y11_laestab"), "laestab_number", "LAESTAB is 7 digits"),
        "activity_code": (_int("activity_code"), "activity_code", "use the 3-digit NCCIS activity code"),
    }
    t, findings = _typed(frame, file, columns, spec)
    t = _ensure(t, ["row_number", "snapshot_date", "upn", "dob", "activity_code", "activity_start_date", "send_status",
                    "y11_laestab"])
    t = t.with_columns(pl.col("snapshot_date", "activity_start_date", "dob").cast(pl.Date),
                       pl.col("activity_code", "y11_laestab").cast(pl.Int64),
                       send_status=pl.col("send_status").cast(pl.String).str.strip_chars().str.to_uppercase())
    d = pl.col("snapshot_date")
    t = t.with_columns(academic_year=pl.when(d.dt.month() >= 8).then(d.dt.year()).otherwise(d.dt.year() - 1))
    t = t.with_columns(age_months_at_31_august=_age_months())
    return t.drop("dob"), findings


def _postcode_sector() -> pl.Expr:
    """The sector of a UK postcode ("S60 1AB" -> "S60 1"); null when the postcode is not one (a finding)."""
    from ingest.early_years import POSTCODE

    pc = pl.col("home_postcode").cast(pl.String).str.to_uppercase().str.replace_all(r"\s+", "")
    pc = pl.when(pc.str.len_chars() >= 5).then(pc.str.slice(0, pc.str.len_chars() - 3) + " " + pc.str.slice(-3))
    return pl.concat_str(pc.str.extract(POSTCODE, 1), pl.lit(" "), pc.str.extract(POSTCODE, 2))


def _age_at_31_december() -> pl.Expr:
    """Age on 31 December of the academic year's first calendar year: for a January census, the 31 December
    before it (the early years census's age rule); a list is dated by the same rule."""
    return (pl.col("academic_year") - pl.col("dob").dt.year()).cast(pl.Int32)


def _in_academic_year(day: str) -> pl.Expr:
    d = pl.col(day)
    return pl.when(d.dt.month() >= 8).then(d.dt.year()).otherwise(d.dt.year() - 1)


def _early_years_census(frame, file, columns):
    """One row per funded child per setting, as the January early years census returns them
    (docs/methodology.md#funded-early-education); the home postcode becomes its sector."""
    hours = "hours are numbers (15, 7.5)"
    spec = {
        "census_date": (_date("census_date"), "date", DATE_FIX),
        "dob": (_date("dob"), "date", DATE_FIX),
        "setting_urn": (_int("setting_urn"), "setting_urn", "give the setting's URN (the 6 digits the authority issued)"),
        "funded_hours": (pl.col("funded_hours").cast(pl.Float64, strict=False), "hours", hours),
        "extended_hours": (pl.col("extended_hours").cast(pl.Float64, strict=False), "hours", hours),
        "hours_at_setting": (pl.col("hours_at_setting").cast(pl.Float64, strict=False), "hours", hours),
        "eypp": (_bool("eypp"), "yes_no", "write Y or N"),
    }
    t, findings = _typed(frame, file, columns, spec)
    t = _ensure(t, ["row_number", "census_date", "setting_urn", "upn", "dob", "home_postcode", "funded_hours",
                    "extended_hours", "hours_at_setting", "two_year_old_basis", "eypp", "sen_provision"])
    t = t.with_columns(pl.col("census_date", "dob").cast(pl.Date), pl.col("setting_urn").cast(pl.Int64),
                       pl.col("funded_hours", "extended_hours", "hours_at_setting").cast(pl.Float64),
                       pl.col("eypp").cast(pl.Boolean),
                       *[pl.col(c).cast(pl.String).str.strip_chars().str.to_uppercase().replace("", None)
                         for c in ("two_year_old_basis", "sen_provision", "home_postcode")])
    t = t.with_columns(academic_year=_in_academic_year("census_date"))
    t = t.with_columns(age_months_at_31_august=_age_months(), age_at_31_december=_age_at_31_december(),
                       postcode_sector=_postcode_sector())
    return t.drop("dob"), findings


def _eligible_two_year_olds(frame, file, columns):
    """One row per child on a list of eligible two-year-olds (Pathways' own layout, ingest/early_years.py)."""
    spec = {"list_date": (_date("list_date"), "date", DATE_FIX), "dob": (_date("dob"), "date", DATE_FIX)}
    t, findings = _typed(frame, file, columns, spec)
    t = _ensure(t, ["row_number", "list_date", "upn", "dob", "home_postcode", "eligibility_basis"])
    t = t.with_columns(pl.col("list_date", "dob").cast(pl.Date),
                       *[pl.col(c).cast(pl.String).str.strip_chars().str.to_uppercase().replace("", None)
                         for c in ("eligibility_basis", "home_postcode")])
    t = t.with_columns(academic_year=_in_academic_year("list_date"))
    t = t.with_columns(age_months_at_31_august=_age_months(), age_at_31_december=_age_at_31_december(),
                       postcode_sector=_postcode_sector())
    return t.drop("dob"), findings


def _home_areas(frame, file, columns):
    t = _ensure(frame, ["row_number", "postcode_sector", "learning_community_code"])
    sector = pl.col("postcode_sector").cast(pl.String).str.to_uppercase().str.strip_chars().str.replace_all(r"\s+", " ")
    return t.with_columns(postcode_sector=sector), []


def _population_estimates(frame, file, columns):
    """Resident children by postcode sector, mid-year and single year of age (Pathways' own layout of ONS
    mid-year estimates, ingest/early_years.py); an estimate may be fractional (apportioned from LSOAs)."""
    spec = {"mid_year": (_int("mid_year"), "integer", "write the year of the mid-year estimate (2023)"),
            "age_at_mid_year": (_int("age_at_mid_year"), "integer", "write the age in whole years (3)"),
            "population": (pl.col("population").str.replace_all(",", "").cast(pl.Float64, strict=False), "number",
                           "write the number of residents (412 or 411.6)")}
    t, findings = _typed(frame, file, columns, spec)
    t = _ensure(t, ["row_number", "postcode_sector", "mid_year", "age_at_mid_year", "population"])
    sector = pl.col("postcode_sector").cast(pl.String).str.to_uppercase().str.strip_chars().str.replace_all(r"\s+", " ")
    return t.with_columns(pl.col("mid_year", "age_at_mid_year").cast(pl.Int64), pl.col("population").cast(pl.Float64),
                          postcode_sector=sector), findings


def _learning_communities(frame, file, columns):
    return _ensure(frame, ["row_number", "learning_community_code", "learning_community_name", "collaborative"]), []


def _ensure(t: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    return t.with_columns([pl.lit(None, pl.String).alias(c) for c in cols if c not in t.columns]).select(cols)


# attainment: canonical column -> subject, per stage (wide files become long rows by subject)
STAGE_SUBJECTS = {
    "eyfsp": {g.lower(): g for g in EYFSP_GOALS},
    "phonics": {"phonics_mark": "phonics_mark", "phonics_outcome": "phonics_outcome"},
    "ks1": {"ks1_reading": "reading", "ks1_writing": "writing", "ks1_maths": "maths", "ks1_science": "science"},
    "ks2": {"ks2_reading": "reading", "ks2_maths": "maths", "ks2_gps": "gps", "ks2_writing": "writing"},
}

_BUILDERS = {
    "census": _census,
    "attendance": _attendance,
    "pupil_premium": _pupil_premium,
    "eyfsp": _attainment("eyfsp", STAGE_SUBJECTS["eyfsp"], "R"),
    "phonics": _attainment("phonics", STAGE_SUBJECTS["phonics"], "1"),
    "ks1": _attainment("ks1", STAGE_SUBJECTS["ks1"], "2"),
    "ks2": _attainment("ks2", STAGE_SUBJECTS["ks2"], "6"),
    "ks4": _ks4,
    "schools": _schools,
    "learning_communities": _learning_communities,
    "school_links": _school_links,
    "community_membership": _community_membership,
    "ofsted_inspections": _ofsted_inspections,
    "exclusions": _exclusions,
    "post16_activity": _post16_activity,
    "early_years_census": _early_years_census,
    "eligible_two_year_olds": _eligible_two_year_olds,
    "home_areas": _home_areas,
    "population_estimates": _population_estimates,
}
