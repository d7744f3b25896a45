"""Upload validation: a corpus of broken files, each asserting the specific rule reported."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from expectations.runner import ValidationContext, validate_table
from ingest.canonical import canonicalise
from pathways.cli import main

Mutation = Callable[[pl.DataFrame], pl.DataFrame]


def _set(row: int, column: str, value: str | None) -> Mutation:
    """Change one cell; ``row`` is the data row index (file line = row + 2)."""
    def f(df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value, pl.String))
                               .otherwise(pl.col(column)).alias(column))
    return f


def _both(*ms: Mutation) -> Mutation:
    def f(df):
        for m in ms:
            df = m(df)
        return df
    return f


def _duplicate_first_row(df: pl.DataFrame) -> pl.DataFrame:
    return pl.concat([df, df.head(1)])


def _read(path: Path) -> pl.DataFrame:
    if path.suffix == ".xlsx":
        from tests.oracle import read_excel_with_title

        raw = pl.read_excel(path, infer_schema_length=0)
        return read_excel_with_title(path) if raw.columns[0] != "UPN" else raw
    return pl.read_csv(path, infer_schema_length=0)


CASES = [
    # (file, mutation, rule, file line, column as the file names it)
    ("school_census_2023-24_autumn.csv", _set(2, "UPN", "A801200005001"), "upn_check_letter", 4, "UPN"),
    ("school_census_2023-24_autumn.csv", _set(3, "UPN", None), "upn_missing", 5, "UPN"),
    ("school_census_2023-24_autumn.csv", _duplicate_first_row, "upn_duplicate", 2, "upn,laestab"),
    ("school_census_2023-24_autumn.csv", _set(4, "Gender", "X"), "sex_code", 6, "Gender"),
    ("school_census_2023-24_autumn.csv", _set(5, "Ethnicity", "ZZZZ"), "ethnicity_code", 7, "Ethnicity"),
    ("school_census_2023-24_autumn.csv", _both(_set(6, "SENprovision", "K"), _set(6, "SENtype1", None)),
     "sen_need_required", 8, "SENtype1"),
    ("school_census_2023-24_autumn.csv", _both(_set(7, "SENprovision", "N"), _set(7, "SENtype1", "ASD")),
     "sen_need_without_provision", 9, "SENtype1"),
    ("school_census_2023-24_autumn.csv", _both(_set(8, "SENprovision", "E"), _set(8, "SENtype1", "NSA")),
     "sen_nsa_only_with_support", 10, "SENtype1"),
    ("school_census_2023-24_autumn.csv", _both(_set(9, "SENprovision", "K"), _set(9, "SENtype1", "XYZ")),
     "sen_need_code", 11, "SENtype1"),
    ("school_census_2023-24_autumn.csv", _set(10, "NCyearActual", "15"), "nc_year_code", 12, "NCyearActual"),
    ("school_census_2023-24_autumn.csv", _set(11, "EnrolStatus", "Z"), "enrol_status_code", 13, "EnrolStatus"),
    ("school_census_2023-24_autumn.csv", _set(12, "EntryDate", "20/10/2023"), "entry_after_census", 14, "EntryDate"),
    ("school_census_2023-24_autumn.csv", _set(13, "DOB", "31/02/2015"), "date", 15, "DOB"),
    ("school_census_2023-24_autumn.csv", _set(14, "ULN", "9276308687"), "uln_check_digit", 16, "ULN"),
    ("school_census_2023-24_autumn.csv", _set(15, "FirstLanguage", "English"), "first_language_code", 17, "FirstLanguage"),
    ("attendance_2023-24_spring.csv", _set(2, "SessionsAuthorisedAbsence", "500"), "absence_exceeds_possible", 4,
     "PossibleSessions"),
    ("attendance_2023-24_spring.csv", _set(3, "SessionsUnauthorisedAbsence", "-2"), "sessions_negative", 5,
     "SessionsUnauthorisedAbsence"),
    ("attendance_2023-24_spring.csv", _set(4, "Term", "Winter"), "term", 6, "Term"),
    ("attendance_2023-24_spring.csv", _set(5, "PossibleSessions", "lots"), "whole_number", 7, "PossibleSessions"),
    ("eyfsp_2023-24.csv", _set(2, "E05", "3"), "elg_value", 4, "E05"),
    ("phonics_2023-24.csv", _set(2, "PhonicsMark", "41"), "phonics_mark", 4, "PhonicsMark"),
    ("phonics_2023-24.csv", _set(3, "PhonicsOutcome", "Pass"), "phonics_outcome", 5, "PhonicsOutcome"),
    ("ks1_2022-23.csv", _set(2, "READ_TA", "L3"), "ks1_ta_code", 4, "READ_TA"),
    ("ks2_2023-24.xlsx", _set(2, "READ_SCORE", "130"), "ks2_scaled_score", 4, "READ_SCORE"),
    ("ks2_2023-24.xlsx", _set(3, "MAT_SCORE", "Z"), "ks2_scaled_score", 5, "MAT_SCORE"),
    ("ks2_2023-24.xlsx", _set(4, "WRIT_TA", "GOOD"), "ks2_writing_ta", 6, "WRIT_TA"),
    ("ks4_2023-24.csv", _set(2, "Grade", "A*"), "gcse_grade", 4, "Grade"),
    ("pupil_premium_2023-24.xlsx", _set(2, "Ever6FSM", "maybe"), "yes_no_value", 4, "Ever6FSM"),
    ("schools.csv", _set(1, "URN", "12345"), "urn_number", 3, "URN"),
]


@pytest.mark.parametrize(("name", "mutate", "rule", "line", "column"), CASES,
                         ids=[f"{c[0].split('_')[0]}-{c[2]}" for c in CASES])
def test_broken_file_reports_the_specific_rule(small_borough_dir, tmp_path, name, mutate, rule, line, column):
    df = mutate(_read(small_borough_dir / name))
    broken = tmp_path / (Path(name).stem + ".csv")
    df.write_csv(broken)
    findings = validate_table(canonicalise(broken))
    hits = [f for f in findings if f.rule == rule]
    assert hits, f"expected rule {rule}; got {sorted({f.rule for f in findings})}"
    assert any(f.row == line and f.column == column for f in hits), [(f.row, f.column) for f in hits[:5]]
    assert all(f.file == broken.name for f in hits)
    # nothing else went wrong in an otherwise valid file (warnings aside)
    assert {f.rule for f in findings if f.severity == "error"} == {rule}


def test_unknown_school_is_an_error_when_the_reference_is_known(small_borough_dir, tmp_path):
    df = _set(0, "LAESTAB", "3729999")(_read(small_borough_dir / "school_census_2023-24_autumn.csv"))
    p = tmp_path / "census.csv"
    df.write_csv(p)
    known = [int(x) for x in pl.read_csv(small_borough_dir / "schools.csv")["LAESTAB"].unique()]
    findings = validate_table(canonicalise(p), ValidationContext(known_laestabs=known))
    assert [(f.rule, f.row, f.value) for f in findings if f.severity == "error"] == [("laestab_unknown", 2, "3729999")]


def test_age_out_of_year_group_is_a_warning_not_an_error(small_borough_dir, tmp_path):
    df = _read(small_borough_dir / "school_census_2023-24_autumn.csv")
    df = _set(0, "DOB", "01/01/2005")(df.filter(pl.col("NCyearActual") == "3"))
    p = tmp_path / "census.csv"
    df.write_csv(p)
    findings = validate_table(canonicalise(p))
    assert [(f.rule, f.severity, f.row) for f in findings] == [("age_fits_nc_year", "warning", 2)]


def test_generated_files_are_all_valid(small_borough_dir):
    for p in sorted(small_borough_dir.iterdir()):
        errors = [f for f in validate_table(canonicalise(p)) if f.severity == "error"]
        assert errors == [], (p.name, errors[:3])


def test_cli_exit_codes_and_formats(small_borough_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATHWAYS_DATA_DIR", str(tmp_path / "data"))  # no warehouse: file-only checks
    good = small_borough_dir / "ks4_2023-24.csv"
    assert main(["validate", str(good)]) == 0
    assert "Verdict:  VALID" in capsys.readouterr().out
    bad = tmp_path / "ks4.csv"
    _set(0, "Grade", "A*")(_read(good)).write_csv(bad)
    assert main(["validate", str(bad), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["verdict"] == "INVALID" and report["findings"][0]["rule"] == "gcse_grade"
    assert report["findings"][0]["row"] == 2 and report["findings"][0]["column"] == "Grade"
    html_out = tmp_path / "report.html"
    assert main(["validate", str(bad), "--format", "html", "--output", str(html_out)]) == 1
    page = html_out.read_text()
    assert "INVALID" in page and "GCSE grade" in page and "<td>A*</td>" in page
    junk = tmp_path / "notes.xls"
    junk.write_bytes(b"\xd0\xcf\x11\xe0")
    assert main(["validate", str(junk)]) == 2
    assert ".xls) format" in capsys.readouterr().out


def test_source_can_be_named_and_missing_columns_are_reported(small_borough_dir, tmp_path):
    df = _read(small_borough_dir / "attendance_2023-24_spring.csv").drop("PossibleSessions")
    p = tmp_path / "att.csv"
    df.write_csv(p)
    t = canonicalise(p, "attendance")
    assert [(f.rule, f.column) for f in t.errors] == [("required_column", "possible_sessions")]
