"""The broken-file corpus: every source, CSV and Excel, each file broken one way, each asserting
the rule reported, the row and column (as the file names them) and the raw value.

Built by mutating the generated borough's files in code (data-driven: one line per case). Value
cases are validated together per source (one Great Expectations run each), as the inbox does.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from expectations.reports import as_json, as_text, summarise
from expectations.runner import validate_tables
from ingest.canonical import canonicalise
from ingest.findings import Finding
from ingest.readers import UnreadableFile
from tests.oracle import read_excel_with_title
from tests.unit.expectations.test_validation import Mutation, _both, _set  # one cell-mutation helper for both corpora

BASE_ROWS = 40  # each broken file is the first rows of a generated file, so the corpus stays quick

BASES = {
    "census": "school_census_2023-24_autumn.csv",
    "attendance": "attendance_2023-24_spring.csv",
    "eyfsp": "eyfsp_2023-24.csv",
    "phonics": "phonics_2023-24.csv",
    "ks1": "ks1_2022-23.csv",
    "ks2": "ks2_2023-24.xlsx",
    "ks4": "ks4_2023-24.csv",
    "pupil_premium": "pupil_premium_2023-24.xlsx",
    "schools": "schools.csv",
    "learning_communities": "learning_communities.csv",
    "ofsted": "Management_information_-_state-funded_schools_-_latest_inspections_as_at_31_Mar_2026.csv",
    "exclusions": "census_exclusions_2023-24_spring.csv",
    "post16": "post16_activity_2024-12.csv",
    "early_years": "early_years_census_2022-01.csv",
    "eligible": "eligible_two_year_olds_2021-12.csv",
    "population": "population_estimates.csv",
}
KEEP = object()  # the expected value is the cell as the generated file has it (the rule blames an unchanged cell)


def _duplicate_row(row: int) -> Mutation:
    return lambda df: pl.concat([df, df.slice(row, 1)])


def _add_column(name: str, value: str) -> Mutation:
    return lambda df: df.with_columns(pl.lit(value).alias(name))


@dataclass(frozen=True)
class Case:
    source: str            # key of BASES
    mutate: Mutation
    rule: str
    row: int | None        # data row index changed (the file row is row + 2: header on row 1); None: the header row
    column: str            # as the file names it
    value: str | None | object  # as the file writes it (KEEP: the unchanged cell)
    severity: str = "error"
    detail: str | None = None  # a fragment the finding's detail must contain


CASES = {
    # census
    "census-upn-check-letter": Case("census", _set(2, "UPN", "A801200005001"), "upn_check_letter", 2, "UPN", "A801200005001"),
    "census-upn-missing": Case("census", _set(3, "UPN", None), "upn_missing", 3, "UPN", None),
    "census-upn-duplicate": Case("census", _duplicate_row(0), "upn_duplicate", 0, "UPN", KEEP, detail="LAESTAB '"),
    "census-sex": Case("census", _set(4, "Gender", "X"), "sex_code", 4, "Gender", "X"),
    "census-ethnicity": Case("census", _set(5, "Ethnicity", "ZZZZ"), "ethnicity_code", 5, "Ethnicity", "ZZZZ"),
    "census-sen-need-required": Case("census", _both(_set(6, "SENprovision", "K"), _set(6, "SENtype1", None)),
                                     "sen_need_required", 6, "SENtype1", None, detail="SENprovision 'K'"),
    "census-sen-need-without-provision": Case("census", _both(_set(7, "SENprovision", "N"), _set(7, "SENtype1", "ASD")),
                                              "sen_need_without_provision", 7, "SENtype1", "ASD"),
    "census-nsa": Case("census", _both(_set(8, "SENprovision", "E"), _set(8, "SENtype1", "NSA")),
                       "sen_nsa_only_with_support", 8, "SENtype1", "NSA"),
    "census-sen-need-code": Case("census", _both(_set(9, "SENprovision", "K"), _set(9, "SENtype1", "XYZ")),
                                 "sen_need_code", 9, "SENtype1", "XYZ"),
    "census-nc-year-code": Case("census", _set(10, "NCyearActual", "15"), "nc_year_code", 10, "NCyearActual", "15"),
    "census-enrol-status": Case("census", _set(11, "EnrolStatus", "Z"), "enrol_status_code", 11, "EnrolStatus", "Z"),
    "census-entry-after-census": Case("census", _set(12, "EntryDate", "20/10/2023"), "entry_after_census", 12, "EntryDate",
                                      "20/10/2023", detail="CensusDate '05/10/2023'"),
    "census-impossible-date": Case("census", _set(13, "DOB", "31/02/2015"), "date", 13, "DOB", "31/02/2015"),
    "census-date-cut-short": Case("census", _set(13, "CensusDate", "05/10/202"), "date", 13, "CensusDate", "05/10/202"),
    "census-uln": Case("census", _set(14, "ULN", "9276308687"), "uln_check_digit", 14, "ULN", "9276308687"),
    "census-first-language": Case("census", _set(15, "FirstLanguage", "English"), "first_language_code", 15,
                                  "FirstLanguage", "English"),
    # the first rows are Year 13 pupils: 17 at 31 August 2023, nowhere near Year 5's age of 9
    "census-y5-for-a-17-year-old": Case("census", _set(16, "NCyearActual", "Y5"), "age_outside_stage", 16, "NCyearActual",
                                        "Y5", detail="age 17 at 31 August 2023"),
    "census-dob-in-future": Case("census", _set(17, "DOB", "01/01/2031"), "dob_in_future", 17, "DOB", "01/01/2031"),
    "census-age-out-of-range": Case("census", _set(18, "DOB", "01/01/1990"), "age_out_of_range", 18, "DOB", "01/01/1990",
                                    detail="age 33"),
    "census-laestab-missing": Case("census", _set(19, "LAESTAB", None), "laestab_missing", 19, "LAESTAB", None),
    "census-laestab-digits": Case("census", _set(20, "LAESTAB", "37220011"), "laestab_number", 20, "LAESTAB", "37220011"),
    "census-census-date-in-future": Case("census", _set(23, "CensusDate", "07/10/2032"), "census_date_in_future", 23,
                                         "CensusDate", "07/10/2032"),
    "census-census-date-missing": Case("census", _set(21, "CensusDate", None), "census_date_missing", 21, "CensusDate", None),
    # attendance
    "attendance-absence-exceeds": Case("attendance", _set(2, "SessionsAuthorisedAbsence", "500"), "absence_exceeds_possible",
                                       2, "PossibleSessions", KEEP, detail="SessionsAuthorisedAbsence '500'"),
    "attendance-negative": Case("attendance", _set(3, "SessionsUnauthorisedAbsence", "-2"), "sessions_negative", 3,
                                "SessionsUnauthorisedAbsence", "-2"),
    "attendance-term": Case("attendance", _set(4, "Term", "Winter"), "term", 4, "Term", "Winter"),
    "attendance-not-a-number": Case("attendance", _set(5, "PossibleSessions", "lots"), "whole_number", 5, "PossibleSessions",
                                    "lots"),
    "attendance-sessions-beyond-a-term": Case("attendance", _both(_set(6, "PossibleSessions", "9999")),
                                              "sessions_exceed_term", 6, "PossibleSessions", "9999"),
    "attendance-dob-in-future": Case("attendance", _set(7, "DOB", "12/12/2030"), "dob_in_future", 7, "DOB", "12/12/2030"),
    "attendance-year-missing": Case("attendance", _set(8, "AcademicYear", None), "academic_year_missing", 8, "AcademicYear",
                                    None),
    # attainment, every stage
    "eyfsp-elg": Case("eyfsp", _set(2, "E05", "3"), "elg_value", 2, "E05", "3"),
    "eyfsp-age-for-reception": Case("eyfsp", _set(3, "DOB", "01/01/2011"), "age_outside_stage", 3, "DOB", "01/01/2011",
                                    detail="age 12 at 31 August 2023"),
    "phonics-mark": Case("phonics", _set(2, "PhonicsMark", "41"), "phonics_mark", 2, "PhonicsMark", "41"),
    "phonics-outcome": Case("phonics", _set(3, "PhonicsOutcome", "Pass"), "phonics_outcome", 3, "PhonicsOutcome", "Pass"),
    "phonics-year-for-age": Case("phonics", _set(4, "NCyearActual", "Y9"), "age_outside_stage", 4, "NCyearActual", "Y9"),
    "ks1-ta": Case("ks1", _set(2, "READ_TA", "L3"), "ks1_ta_code", 2, "READ_TA", "L3"),
    "ks1-dob-in-future": Case("ks1", _set(3, "DOB", "01/09/2029"), "dob_in_future", 3, "DOB", "01/09/2029"),
    "ks2-score": Case("ks2", _set(2, "READ_SCORE", "130"), "ks2_scaled_score", 2, "READ_SCORE", "130"),
    "ks2-code": Case("ks2", _set(3, "MAT_SCORE", "Z"), "ks2_scaled_score", 3, "MAT_SCORE", "Z"),
    "ks2-writing": Case("ks2", _set(4, "WRIT_TA", "GOOD"), "ks2_writing_ta", 4, "WRIT_TA", "GOOD"),
    "ks2-born-in-2030": Case("ks2", _set(5, "DOB", "01/06/2030"), "dob_in_future", 5, "DOB", "01/06/2030"),
    "ks2-laestab-missing": Case("ks2", _set(6, "LAESTAB", None), "laestab_missing", 6, "LAESTAB", None),
    "ks4-grade": Case("ks4", _set(2, "Grade", "A*"), "gcse_grade", 2, "Grade", "A*"),
    "ks4-age-for-gcse": Case("ks4", _set(3, "DOB", "01/01/2015"), "age_outside_stage", 3, "DOB", "01/01/2015",
                             detail="age 8"),
    "ks4-year-not-started": Case("ks4", _set(5, "AcademicYear", "2031/32"), "academic_year_in_future", 5, "AcademicYear",
                                 "2031/32"),
    "ks4-year-missing": Case("ks4", _set(4, "AcademicYear", None), "academic_year_missing", 4, "AcademicYear", None),
    # pupil premium
    "pupil-premium-yes-no": Case("pupil_premium", _set(2, "Ever6FSM", "maybe"), "yes_no_value", 2, "Ever6FSM", "maybe"),
    "pupil-premium-dob-in-future": Case("pupil_premium", _set(3, "DOB", "01/01/2031"), "dob_in_future", 3, "DOB",
                                        "01/01/2031"),
    "pupil-premium-age": Case("pupil_premium", _set(4, "DOB", "01/01/2001"), "age_out_of_range", 4, "DOB", "01/01/2001"),
    "pupil-premium-upn": Case("pupil_premium", _set(5, "UPN", "A801200005001"), "upn_check_letter", 5, "UPN",
                              "A801200005001"),
    # reference files
    "schools-urn-digits": Case("schools", _set(1, "URN", "12345"), "urn_number", 1, "URN", "12345"),
    "schools-urn-missing": Case("schools", _set(2, "URN", None), "urn_missing", 2, "URN", None),
    "schools-urn-duplicate": Case("schools", _duplicate_row(3), "urn_duplicate", 3, "URN", KEEP),
    "schools-laestab-digits": Case("schools", _set(4, "LAESTAB", "372"), "laestab_number", 4, "LAESTAB", "372"),
    "schools-predecessor-urn": Case("schools", _set(6, "PredecessorURN", "99999999999"), "urn_number", 6, "PredecessorURN",
                                    "99999999999"),
    "schools-community-missing": Case("schools", _set(5, "LearningCommunityCode", None), "learning_community_missing", 5,
                                      "LearningCommunityCode", None),
    "communities-code-missing": Case("learning_communities", _set(0, "LearningCommunityCode", None),
                                     "learning_community_code_missing", 0, "LearningCommunityCode", None),
    "communities-duplicate": Case("learning_communities", _duplicate_row(1), "learning_community_duplicate", 1,
                                  "LearningCommunityCode", KEEP),
    # Ofsted's management information (report-card layout; the first row is a report card)
    "ofsted-report-card-grade": Case("ofsted", _set(0, "Inclusion", "Satisfactory"), "ofsted_grade", 0, "Inclusion",
                                     "Satisfactory"),
    "ofsted-eif-grade": Case("ofsted", _set(1, "Latest OEIF quality of education", "5"), "ofsted_grade", 1,
                             "Latest OEIF quality of education", "5"),
    "ofsted-safeguarding": Case("ofsted", _set(0, "Safeguarding standards", "Yes"), "ofsted_grade", 0,
                                "Safeguarding standards", "Yes"),
    "ofsted-urn-digits": Case("ofsted", _set(2, "URN", "12345"), "urn_number", 2, "URN", "12345"),
    "ofsted-published-before-inspection": Case("ofsted", _set(0, "Publication date", "01/01/2001"),
                                               "published_before_inspection", 0, "Publication date", "01/01/2001",
                                               detail="Inspection start date '"),
    "ofsted-impossible-date": Case("ofsted", _set(4, "Inspection start date", "31/02/2024"), "date", 4,
                                   "Inspection start date", "31/02/2024"),
    "ofsted-duplicate-school": Case("ofsted", _duplicate_row(5), "urn_duplicate", 5, "URN", KEEP),
    # the census exclusions module (the spring 2024 return: summer 2023 and autumn 2023 exclusions)
    "exclusions-category": Case("exclusions", _set(0, "Category", "EXPL"), "exclusion_category", 0, "Category", "EXPL"),
    "exclusions-reason": Case("exclusions", _set(1, "Reason", "XX"), "exclusion_reason", 1, "Reason", "XX"),
    "exclusions-reason-out-of-use": Case("exclusions", _set(2, "Reason", "OT"), "exclusion_reason_out_of_use", 2,
                                         "Reason", "OT"),
    "exclusions-reason-missing": Case("exclusions", _set(3, "Reason", ""), "exclusion_reason_missing", 3, "Reason", None),
    "exclusions-suspension-sessions": Case("exclusions", _set(4, "Sessions", "200"), "suspension_sessions", 4,
                                           "Sessions", "200"),
    "exclusions-after-census": Case("exclusions", _set(5, "StartDate", "01/03/2024"), "exclusion_after_census", 5,
                                    "StartDate", "01/03/2024"),
    "exclusions-impossible-date": Case("exclusions", _set(6, "StartDate", "31/02/2024"), "date", 6, "StartDate",
                                       "31/02/2024"),
    "exclusions-duplicate": Case("exclusions", _duplicate_row(7), "exclusion_duplicate", 7, "UPN", KEEP),
    "exclusions-upn": Case("exclusions", _set(8, "UPN", "A12345678901Z"), "upn_check_letter", 8, "UPN", "A12345678901Z"),
    # post-16 activity tracking (a month-end snapshot)
    "post16-activity-code": Case("post16", _set(0, "ActivityCode", "999"), "activity_code", 0, "ActivityCode", "999"),
    "post16-send": Case("post16", _set(1, "SEND", "X"), "send_status", 1, "SEND", "X"),
    "post16-activity-after-snapshot": Case("post16", _set(2, "ActivityStartDate", "01/02/2025"), "activity_after_snapshot",
                                           2, "ActivityStartDate", "01/02/2025"),
    "post16-duplicate": Case("post16", _duplicate_row(3), "upn_duplicate", 3, "UPN", KEEP),
    "post16-impossible-date": Case("post16", _set(4, "SnapshotDate", "31/02/2024"), "date", 4, "SnapshotDate",
                                   "31/02/2024"),
    # funded early education: the January early years census and the eligible two-year-olds list
    "ey-setting-urn": Case("early_years", _set(0, "SettingURN", "123456"), "setting_urn_range", 0, "SettingURN", "123456"),
    "ey-funded-hours": Case("early_years", _set(1, "FundedHours", "40"), "funded_hours_range", 1, "FundedHours", "40"),
    "ey-basis": Case("early_years", _set(2, "TwoYearOldBasis", "ECO;XYZ"), "two_year_old_basis", 2, "TwoYearOldBasis",
                     "ECO;XYZ"),
    "ey-postcode": Case("early_years", _set(3, "HomePostcode", "NOT A POSTCODE"), "postcode", 3, "HomePostcode",
                        "NOT A POSTCODE"),
    "ey-duplicate": Case("early_years", _duplicate_row(4), "upn_duplicate", 4, "UPN", KEEP),
    "ey-impossible-date": Case("early_years", _set(5, "CensusDate", "31/02/2022"), "date", 5, "CensusDate", "31/02/2022"),
    "eligible-postcode": Case("eligible", _set(0, "HomePostcode", "S20"), "postcode", 0, "HomePostcode", "S20"),
    "eligible-basis": Case("eligible", _set(1, "EligibilityBasis", "FSM"), "eligibility_basis", 1, "EligibilityBasis", "FSM"),
    "eligible-duplicate": Case("eligible", _duplicate_row(2), "upn_duplicate", 2, "UPN", KEEP),
    "eligible-upn": Case("eligible", _set(3, "UPN", "A12345678901Z"), "upn_check_letter", 3, "UPN", "A12345678901Z"),
    # the authority's ONS population estimates by postcode sector and age (reference)
    "population-negative": Case("population", _set(0, "Population", "-3"), "population_negative", 0, "Population", "-3"),
    "population-not-a-number": Case("population", _set(1, "Population", "many"), "number", 1, "Population", "many"),
    "population-age": Case("population", _set(2, "Age", "120"), "age_range", 2, "Age", "120"),
    "population-sector": Case("population", _set(3, "PostcodeSector", "S20"), "postcode_sector", 3, "PostcodeSector", "S20"),
    "population-year": Case("population", _set(0, "MidYear", "23"), "mid_year_range", 0, "MidYear", "23"),
    "population-duplicate": Case("population", _duplicate_row(1), "population_duplicate", 1, "Population", KEEP),
    "population-missing": Case("population", _set(2, "Population", None), "population_missing", 2, "Population", None),
    # warnings: the file loads, but a data lead should look
    "census-unknown-column": Case("census", _add_column("HouseColour", "Red"), "unknown_column", None, "HouseColour", "Red",
                                  severity="warning"),
    "attendance-unused-column": Case("attendance", _add_column("Phase", "Primary"), "unused_column", None, "Phase", "Primary",
                                     severity="warning"),
    "census-two-years-out": Case("census", _set(22, "NCyearActual", "11"), "age_fits_nc_year", 22, "NCyearActual", "11",
                                 severity="warning"),
}


def _read_base(small_borough_dir: Path, source: str) -> pl.DataFrame:
    path = small_borough_dir / BASES[source]
    if path.suffix == ".xlsx":
        raw = pl.read_excel(path, infer_schema_length=0)
        df = read_excel_with_title(path) if raw.columns[0] != "UPN" else raw
    else:
        df = pl.read_csv(path, infer_schema_length=0)
    return df.head(BASE_ROWS)


def write(df: pl.DataFrame, path: Path) -> Path:
    if path.suffix == ".xlsx":
        df.write_excel(path, autofit=False)
    else:
        df.write_csv(path)
    return path


@pytest.fixture(scope="module")
def corpus(small_borough_dir, tmp_path_factory) -> dict[tuple[str, str], tuple[Path, list[Finding], str | None]]:
    """Every value case in both formats, canonicalised and validated (one GE run per source and stage):
    (file, findings, the expected value)."""
    folder = tmp_path_factory.mktemp("corpus")
    bases = {s: _read_base(small_borough_dir, s) for s in BASES}
    tables, keys, values = [], [], []
    for case_id, case in CASES.items():
        for fmt in ("csv", "xlsx"):
            path = write(case.mutate(bases[case.source]), folder / f"{case_id}.{fmt}")
            tables.append(canonicalise(path))
            keys.append((case_id, fmt))
            values.append(bases[case.source][case.column][case.row] if case.value is KEEP else case.value)
    return {k: (t.path, f, v) for k, t, f, v in zip(keys, tables, validate_tables(tables), values)}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("case_id", sorted(CASES))
def test_broken_value_is_reported_with_its_rule_row_column_and_raw_value(corpus, case_id, fmt):
    case = CASES[case_id]
    path, findings, value = corpus[(case_id, fmt)]
    hits = [f for f in findings if f.rule == case.rule]
    assert hits, f"expected rule {case.rule}; got {sorted({f.rule for f in findings})}"
    row = 1 if case.row is None else case.row + 2  # the header is row 1 in both formats
    hit = next((f for f in hits if f.row == row), None)
    assert hit is not None, [(f.row, f.column, f.value) for f in hits[:5]]
    assert (hit.column, hit.value, hit.severity, hit.file) == (case.column, value, case.severity, path.name)
    if case.detail:
        assert case.detail in (hit.detail or ""), hit.detail
    # nothing else is wrong with an otherwise valid file
    assert {f.rule for f in findings if f.severity == "error"} == ({case.rule} if case.severity == "error" else set())


# ---------------------------------------------------------------------------------------------
# files broken as files: cut short, ragged, the wrong type or encoding, empty


def _findings(path: Path) -> list[Finding]:
    """What the intake would say about the file (before its values are checked, when it cannot be read)."""
    try:
        table = canonicalise(path)
    except UnreadableFile as e:
        return e.findings
    return validate_tables([table])[0]


def _csv_text(small_borough_dir: Path, source: str) -> str:
    return _read_base(small_borough_dir, source).write_csv()


def _cut_mid_row(text: str) -> tuple[str, int, str, str]:
    """Cut inside the sixth field of the last whole line: (text, file row, column, partial value)."""
    lines = text.splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    last = lines[-1]
    fields = last.split(",")
    cut_at = len(",".join(fields[:5])) + 1 + max(1, len(fields[5]) // 2)
    partial = last[:cut_at]
    return "".join(lines[:-1]) + partial, len(lines), header[5], partial.split(",")[-1]


# name -> (make(generated folder, output folder) -> the broken file, or (file, (row, column, value))), rule)
FILE_CASES: dict[str, tuple[Callable, str]] = {}


def _make(name: str, base: Path, out: Path) -> tuple[Path, tuple | None]:
    made = FILE_CASES[name][0](base, out)
    return made if isinstance(made, tuple) else (made, None)


def file_case(name: str, rule: str):
    def register(make: Callable[[Path, Path], Path]):
        FILE_CASES[name] = (make, rule)
        return make
    return register


@file_case("csv-cut-mid-row", "csv_last_line_cut")
def _(base: Path, out: Path):
    text, row, column, value = _cut_mid_row(_csv_text(base, "census"))
    p = out / "census_cut.csv"
    p.write_text(text)
    return p, (row, column, value)


@file_case("csv-cut-in-last-field", "csv_last_line_cut")
def _(base: Path, out: Path) -> Path:
    text = _csv_text(base, "attendance").rstrip("\n")[:-3]  # "Spring" -> "Spr"
    p = out / "attendance_cut.csv"
    p.write_text(text)
    return p


@file_case("csv-cut-inside-quotes", "csv_last_line_cut")
def _(base: Path, out: Path) -> Path:
    text = _csv_text(base, "schools")
    p = out / "schools_cut.csv"
    p.write_text(text + '106999,3722999,"St Mary\'s, Upper\n')
    return p


for _source in ("census", "ks4", "schools"):
    @file_case(f"csv-short-row-{_source}", "csv_field_count")
    def _(base: Path, out: Path, source=_source) -> Path:
        lines = _csv_text(base, source).splitlines(keepends=True)
        lines[5] = ",".join(lines[5].split(",")[:-2]) + "\n"  # the row stops two fields early
        p = out / f"{source}_short_row.csv"
        p.write_text("".join(lines))
        return p, (6, lines[0].rstrip("\n").split(",")[-2], None)


@file_case("csv-unquoted-comma", "csv_field_count")
def _(base: Path, out: Path) -> Path:
    df = _read_base(base, "schools").with_columns(pl.col("SchoolName").str.replace(" ", "|"))
    text = df.write_csv().replace("|", ", ", 1)  # "Aston, Lane Primary School" in row 2, unquoted
    p = out / "schools_comma.csv"
    p.write_text(text)
    return p


@file_case("csv-repeated-header-mid-file", "repeated_header")
def _(base: Path, out: Path):
    lines = _csv_text(base, "census").splitlines(keepends=True)
    p = out / "census_two_exports.csv"
    p.write_text("".join(lines[:10] + [lines[0]] + lines[10:]))  # two exports pasted together
    return p, (11, "UPN", "UPN")  # line 11: the header again after the header and nine rows


@file_case("csv-utf16-with-bom", "file_encoding")
def _(base: Path, out: Path) -> Path:
    p = out / "phonics_unicode.csv"
    p.write_bytes(_csv_text(base, "phonics").encode("utf-16"))
    return p


@file_case("csv-utf16-without-bom", "file_encoding")
def _(base: Path, out: Path) -> Path:
    p = out / "census_utf16le.txt"
    p.write_bytes(_csv_text(base, "census").replace(",", "\t").encode("utf-16-le"))
    return p


@file_case("csv-neither-utf8-nor-1252", "file_encoding")
def _(base: Path, out: Path) -> Path:
    p = out / "ks1_mac.csv"
    p.write_bytes(_csv_text(base, "ks1").encode("utf-8").replace("Dvořák".encode(), b"Dvo\x81\x8d\x90k"))
    return p


@file_case("csv-is-really-a-workbook", "file_type")
def _(base: Path, out: Path) -> Path:
    p = out / "ks2_results.csv"
    p.write_bytes((base / BASES["ks2"]).read_bytes())
    return p


@file_case("xlsx-is-really-a-csv", "file_type")
def _(base: Path, out: Path) -> Path:
    p = out / "census.xlsx"
    p.write_text(_csv_text(base, "census"))
    return p


@file_case("csv-is-an-old-xls", "file_type")
def _(base: Path, out: Path) -> Path:
    p = out / "pupil_premium.csv"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000)
    return p


@file_case("xlsx-is-encrypted-or-xls", "file_type")
def _(base: Path, out: Path) -> Path:
    p = out / "ks2.xlsx"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000)
    return p


@file_case("csv-is-a-pdf", "file_type")
def _(base: Path, out: Path) -> Path:
    p = out / "schools.csv"
    p.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    return p


@file_case("csv-binary", "file_type")
def _(base: Path, out: Path) -> Path:
    p = out / "attendance.csv"
    p.write_bytes(bytes(range(256)) * 20)
    return p


@file_case("xlsx-cut-short", "readable_file")
def _(base: Path, out: Path) -> Path:
    data = (base / BASES["pupil_premium"]).read_bytes()
    p = out / "pupil_premium_cut.xlsx"
    p.write_bytes(data[: len(data) // 2])
    return p


@file_case("xlsx-not-a-workbook-zip", "file_type")
def _(base: Path, out: Path) -> Path:
    p = out / "census.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("readme.txt", "not a workbook")
    return p


for _fmt in ("csv", "xlsx"):
    @file_case(f"{_fmt}-empty", "file_empty")
    def _(base: Path, out: Path, fmt=_fmt) -> Path:
        p = out / f"census_empty.{fmt}"
        if fmt == "csv":
            p.write_bytes(b"")
        else:
            pl.DataFrame().write_excel(p)
        return p

    for _source in BASES:
        @file_case(f"{_fmt}-header-only-{_source}", "no_data_rows")
        def _(base: Path, out: Path, fmt=_fmt, source=_source) -> Path:
            return write(_read_base(base, source).head(0), out / f"{source}_header_only.{fmt}")

    @file_case(f"{_fmt}-unknown-source", "source_unknown")
    def _(base: Path, out: Path, fmt=_fmt) -> Path:
        return write(pl.DataFrame({"Name": ["a"], "Colour": ["b"]}), out / f"notes.{fmt}")

    @file_case(f"{_fmt}-census-without-census-date", "required_column")
    def _(base: Path, out: Path, fmt=_fmt) -> Path:
        p = write(_read_base(base, "census").drop("CensusDate"), out / f"census_no_date.{fmt}")
        return p, (1, "CensusDate", None)

    @file_case(f"{_fmt}-unsupported-extension", "file_type")
    def _(base: Path, out: Path, fmt=_fmt) -> Path:
        p = out / f"census.{fmt}.json"
        p.write_text("{}")
        return p


@pytest.mark.parametrize("name", sorted(FILE_CASES))
def test_broken_file_is_refused_with_its_rule(small_borough_dir, tmp_path, name):
    rule = FILE_CASES[name][1]
    path, expect = _make(name, small_borough_dir, tmp_path)
    findings = _findings(path)
    errors = [f for f in findings if f.severity == "error"]
    assert errors and {f.rule for f in errors} == {rule}, [(f.rule, f.message) for f in findings]
    assert all(f.file == path.name for f in findings)
    if expect:
        row, column, value = expect
        assert any((f.row, f.column, f.value) == (row, column, value) for f in errors), \
            [(f.row, f.column, f.value) for f in errors]


def test_a_cut_file_names_the_cut_row_its_column_and_what_is_left_of_it(small_borough_dir, tmp_path):
    path, (row, column, value) = _make("csv-cut-mid-row", small_borough_dir, tmp_path)
    [finding] = _findings(path)
    assert (finding.rule, finding.row, finding.column, finding.value) == ("csv_last_line_cut", row, column, value)
    assert "line break" in finding.message and "6 of 16 fields" in finding.detail


def test_utf16_is_named_as_such_not_reported_as_thousands_of_errors(small_borough_dir, tmp_path):
    path, _ = _make("csv-utf16-with-bom", small_borough_dir, tmp_path)
    [finding] = _findings(path)
    assert "UTF-16" in finding.message and "CSV UTF-8" in finding.fix


def test_a_workbook_named_csv_says_rename_it(small_borough_dir, tmp_path):
    path, _ = _make("csv-is-really-a-workbook", small_borough_dir, tmp_path)
    [finding] = _findings(path)
    assert "Excel workbook saved with a .csv name" in finding.message and ".xlsx" in finding.fix


def test_a_huge_value_is_cut_in_the_finding_and_the_report(small_borough_dir, tmp_path):
    df = _set(2, "Ethnicity", "X" * 1_000_000)(_read_base(small_borough_dir, "census"))
    path = write(df, tmp_path / "census_huge.csv")
    [finding] = [f for f in validate_tables([canonicalise(path)])[0] if f.severity == "error"]
    assert finding.rule == "ethnicity_code" and finding.column == "Ethnicity"
    assert len(finding.value) < 300 and finding.value.endswith("[cut: 1,000,000 characters in all]")
    report = as_text(summarise(path.name, "census", df.height, [finding]), [finding])
    assert len(report) < 5_000 and len(as_json(summarise(path.name, "census", df.height, [finding]), [finding])) < 5_000


def test_blank_lines_and_trailing_separators_are_not_rows(small_borough_dir, tmp_path):
    text = _csv_text(small_borough_dir, "schools")
    lines = text.splitlines()
    padded = [lines[0] + ","] + [line + "," for line in lines[1:3]] + ["", ",,,,,,,,,,"] + lines[3:]
    path = tmp_path / "schools_padded.csv"
    path.write_text("\r\n".join(padded) + "\r\n")
    table = canonicalise(path)
    assert table.findings == [] and table.frame.height == len(lines) - 1
    assert table.frame["row_number"].to_list()[:3] == [2, 3, 6]  # the file's own lines, blank ones skipped


# ---------------------------------------------------------------------------------------------
# messy but valid: read as the authority sends them, with no finding

def _title_block(df: pl.DataFrame, p: Path) -> Path:
    p.write_text("Attendance export for the local authority\nProduced by the MIS\n\n" + df.write_csv())
    return p


def _notes_sheet_first(df: pl.DataFrame, p: Path) -> Path:
    import xlsxwriter

    with xlsxwriter.Workbook(p) as wb:
        wb.add_worksheet("Notes").write(0, 0, "Read me first: the data is on the next sheet")
        df.write_excel(wb, worksheet=wb.add_worksheet("Data"))
    return p


MESSY = {
    "title-block-above-the-csv-header": lambda df, out: _title_block(df, out / "attendance.csv"),
    "pipe-separated-old-mac-line-endings": lambda df, out: (out / "attendance.txt").write_text(
        df.write_csv(separator="|").replace("\n", "\r")) and out / "attendance.txt",
    "laestab-with-a-slash-and-lower-case-upn": lambda df, out: write(df.with_columns(
        pl.col("LAESTAB").str.slice(0, 3) + "/" + pl.col("LAESTAB").str.slice(3), pl.col("UPN").str.to_lowercase()),
        out / "attendance.csv"),
    "a-notes-sheet-before-the-data": lambda df, out: _notes_sheet_first(df, out / "attendance.xlsx"),
}


@pytest.mark.parametrize("name", sorted(MESSY))
def test_messy_but_valid_files_are_read_without_findings(small_borough_dir, tmp_path, name):
    df = _read_base(small_borough_dir, "attendance")
    table = canonicalise(MESSY[name](df, tmp_path))
    assert table.source.name == "attendance" and table.frame.height == df.height
    assert validate_tables([table])[0] == []
    assert table.frame["laestab"].to_list() == df["LAESTAB"].cast(pl.Int64).to_list()
