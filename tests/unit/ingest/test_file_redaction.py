"""Rewriting an uploaded file without some rows (erasure, retention): exactly those rows go, the
rest reads as before, and nothing of an erased pupil is left anywhere in the file."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
import xlsxwriter

from ingest.file_redaction import RewriteFailed, mentions, renumbering, rewrite_without, rows_holding, rows_of_pupil_keys
from ingest.identifiers import pseudonymise
from ingest.readers import read_table
from ingest.retention import last_expired_year


def test_a_csv_loses_exactly_the_rows_named_and_keeps_every_other_byte(tmp_path, small_borough_dir):
    src = pl.read_csv(small_borough_dir / "attendance_2023-24_spring.csv", infer_schema_length=0).head(12)
    src = src.with_columns(Forename=pl.lit("Zoë"))
    text = src.write_csv(line_terminator="\r\n")
    old = tmp_path / "attendance.csv"
    old.write_bytes(text.encode("cp1252"))
    new = tmp_path / "attendance.rewritten.csv"
    assert rewrite_without(old, new, {None: {3, 5}}) == 2
    lines = old.read_bytes().split(b"\n")
    assert new.read_bytes() == b"\n".join(line for n, line in enumerate(lines, start=1) if n not in (3, 5))
    before, after = read_table(old).frame, read_table(new).frame
    assert after.drop("row_number").equals(before.filter(~pl.col("row_number").is_in([3, 5])).drop("row_number"))
    assert renumbering(old, new, {3, 5})[:4] == [(2, 2), (4, 3), (6, 4), (7, 5)]


def test_a_workbook_loses_the_rows_named_in_every_sheet(tmp_path, small_borough_dir):
    pp = read_table(small_borough_dir / "pupil_premium_2023-24.xlsx")   # a title block above the header
    upn, other = pp.frame["UPN"][0], pp.frame["UPN"][1]
    book = tmp_path / "pp.xlsx"
    with xlsxwriter.Workbook(book) as wb:
        ws = wb.add_worksheet("Pupil premium")
        ws.write_row(0, 0, ["Pupil premium allocations 2023/24"])
        ws.write_row(2, 0, [c for c in pp.frame.columns if c != "row_number"])
        for i, row in enumerate(pp.frame.drop("row_number").head(10).iter_rows()):
            ws.write_row(3 + i, 0, [v or "" for v in row])
        notes = wb.add_worksheet("Notes")
        notes.write_row(0, 0, ["UPN", "Note"])
        notes.write_row(1, 0, [upn, "moved school in March"])
        notes.write_row(2, 0, [other, "new to the borough"])
    found = rows_holding(book, [upn.lower()])  # case and spaces do not matter to the search
    assert {(f.sheet, tuple(f.rows["row_number"])) for f in found} == {("Pupil premium", (4,)), ("Notes", (2,))}
    new = tmp_path / "pp.rewritten.xlsx"
    rewrite_without(book, new, {f.sheet: set(f.rows["row_number"]) for f in found}, forbidden=[upn])
    assert not mentions(new, [upn]) and mentions(new, [other])
    after = read_table(new).frame
    assert after.height == 9 and after["UPN"].to_list() == pp.frame["UPN"][1:10].to_list()
    assert read_table(new, "Notes").frame["UPN"].to_list() == [other]


def test_a_rewrite_that_would_leave_the_pupil_in_the_file_is_refused(tmp_path):
    old = tmp_path / "census.csv"
    old.write_text("UPN,Surname,Notes\nA123456789012,Smith,\nB123456789012,Jones,sibling of A123456789012\n")
    with pytest.raises(RewriteFailed, match="still mention"):
        rewrite_without(old, tmp_path / "out.csv", {None: {2}}, forbidden=["A123456789012"])


def test_rows_of_erased_pupils_are_found_by_their_keyed_hash_alone(small_borough_dir):
    path = small_borough_dir / "school_census_2023-24_autumn.csv"
    frame = read_table(path).frame
    key = b"some-key"
    wanted = set(pseudonymise(frame["UPN"][[3, 7]], key).to_list())
    assert rows_of_pupil_keys(path, wanted, key) == {None: set(frame["row_number"][[3, 7]].to_list())}


@pytest.mark.parametrize("as_of, years, expected", [
    (date(2022, 8, 31), 2, 2018),   # 2019/20 ended 31 August 2020: two years on is today, not yet past
    (date(2022, 9, 1), 2, 2019),
    (date(2026, 1, 1), 2, 2022),
    (date(2026, 11, 25), 12, 2013),  # 2013/14 ended 31 August 2014; twelve years on has passed
    (date(2026, 11, 25), 0, 2025),   # no period: 2025/26 ended on 31 August 2026 and goes at once
])
def test_the_retention_clock_starts_when_the_academic_year_ends(as_of, years, expected):
    assert last_expired_year(years, as_of) == expected
