"""Upload validation: context from the warehouse, the age rules, the command line. The corpus of
broken files is test_broken_files.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl

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


def test_unknown_school_is_an_error_when_the_reference_is_known(small_borough_dir, tmp_path):
    df = _set(0, "LAESTAB", "3729999")(_read(small_borough_dir / "school_census_2023-24_autumn.csv"))
    p = tmp_path / "census.csv"
    df.write_csv(p)
    known = [int(x) for x in pl.read_csv(small_borough_dir / "schools.csv")["LAESTAB"].unique()]
    findings = validate_table(canonicalise(p), ValidationContext(known_laestabs=known))
    assert [(f.rule, f.row, f.value) for f in findings if f.severity == "error"] == [("laestab_unknown", 2, "3729999")]


def test_two_years_out_of_year_group_is_a_warning_not_an_error(small_borough_dir, tmp_path):
    df = _read(small_borough_dir / "school_census_2023-24_autumn.csv")
    # Year 3 pupils are 7 at 31 August 2023; born 1 January 2014 they are 9: taught two years down
    df = _set(0, "DOB", "01/01/2014")(df.filter(pl.col("NCyearActual") == "3"))
    p = tmp_path / "census.csv"
    df.write_csv(p)
    findings = validate_table(canonicalise(p))
    assert [(f.rule, f.severity, f.row, f.column, f.value) for f in findings] == [
        ("age_fits_nc_year", "warning", 2, "NCyearActual", "3")]
    assert findings[0].detail == "DOB '01/01/2014'; age 9 at 31 August 2023"


def test_an_age_impossible_for_the_year_group_is_an_error_naming_both_cells(small_borough_dir, tmp_path):
    df = _read(small_borough_dir / "school_census_2023-24_autumn.csv")
    df = _set(0, "DOB", "01/01/2005")(df.filter(pl.col("NCyearActual") == "3"))
    p = tmp_path / "census.csv"
    df.write_csv(p)
    findings = validate_table(canonicalise(p))
    assert [(f.rule, f.severity, f.row, f.column, f.value, f.detail) for f in findings] == [
        ("age_outside_stage", "error", 2, "NCyearActual", "3", "DOB '01/01/2005'; age 18 at 31 August 2023")]


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


def test_a_formula_like_school_or_community_name_is_a_row_level_warning(small_borough_dir, tmp_path):
    for file, column in (("schools.csv", "SchoolName"), ("learning_communities.csv", "LearningCommunityName")):
        df = _read(small_borough_dir / file)
        column = next(c for c in df.columns if c.replace(" ", "") == column)
        df = _set(1, column, '=HYPERLINK("http://example.org","x")')(df)
        p = tmp_path / file
        df.write_csv(p)
        findings = validate_table(canonicalise(p), ValidationContext())
        assert [(f.rule, f.row, f.column, f.severity) for f in findings if f.rule == "name_formula_like"] == [
            ("name_formula_like", 3, column, "warning")], file  # named as the file names it
