"""A community's workbook opened as its readers open it (openpyxl reads it as a spreadsheet does):
cover, contents and notes first, one named table per sheet, numbers as numbers, years as 2023/24,
identifiers without separators, and never a formula - even from an upload whose names look like one."""

from __future__ import annotations

import json
import shutil

import openpyxl
import polars as pl

from tests.conftest import copy_into_inbox, make_settings


def _cells(ws):
    return [c for row in ws.iter_rows() for c in row if c.value is not None]


def test_a_community_workbook_has_cover_notes_and_typed_cells(refreshed):
    current = refreshed.published_dir / "current"
    manifest = json.loads((current / "manifest.json").read_text())
    wb = openpyxl.load_workbook(current / "by_learning_community" / "LC01.xlsx")
    assert wb.sheetnames[:3] == ["Cover", "Contents", "Notes"]
    cover = " ".join(str(c.value) for c in _cells(wb["Cover"]))
    assert "LC01" in cover and manifest["publication_id"] in cover and "Contact" in cover and "Sources" in cover
    notes = " ".join(str(c.value) for c in _cells(wb["Notes"]))
    assert "[c]" in notes and "[z]" in notes and "https://" in notes
    for ws in wb.worksheets[1:]:
        assert ws.tables and not any(name.lower().startswith("frame") for name in ws.tables), ws.title
    gaps = wb["Gaps"]
    header = [c.value for c in gaps[4]]
    assert header[0] == "Academic year" and "Disadvantage gap" in header
    years = [r[0] for r in gaps.iter_rows(min_row=5, values_only=True)]
    assert all(isinstance(y, str) and len(y) == 7 and y[4] == "/" for y in years)  # 2023/24
    gap = [r[header.index("Disadvantage gap")] for r in gaps.iter_rows(min_row=5, values_only=True)]
    assert any(isinstance(v, float) for v in gap) and all(isinstance(v, int | float) or v in ("[c]", "[z]", "[x]") for v in gap)
    schools = wb["School_categories"]
    urn = [c.value for c in schools[4]].index("URN")
    first = schools.cell(row=5, column=urn + 1)
    assert isinstance(first.value, int) and first.number_format == "0"  # 106796, never 106,796
    assert gaps.column_dimensions["A"].width < 20 and gaps.column_dimensions["C"].width >= 20  # widths in characters


def test_an_upload_with_formula_like_names_gives_workbooks_and_open_data_that_run_nothing(small_borough_dir, tmp_path):
    settings = make_settings(tmp_path)
    settings.inbox_dir.mkdir(parents=True)
    copy_into_inbox(sorted(small_borough_dir.iterdir()), settings)
    evil_school, evil_lc = '=HYPERLINK("http://example.org/x","click")', "@SUM(1+1)*cmd|' /C calc'!A0"
    schools = pl.read_csv(small_borough_dir / "schools.csv", infer_schema_length=0)
    name = next(c for c in schools.columns if c.replace(" ", "").lower() == "schoolname")
    schools.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(evil_school)).otherwise(pl.col(name)).alias(name)) \
        .write_csv(settings.inbox_dir / "schools.csv")
    lcs = pl.read_csv(small_borough_dir / "learning_communities.csv", infer_schema_length=0)
    lc_name = next(c for c in lcs.columns if "name" in c.lower())
    lcs.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(evil_lc)).otherwise(pl.col(lc_name)).alias(lc_name)) \
        .write_csv(settings.inbox_dir / "learning_communities.csv")
    from pathways.cli import run_refresh

    assert run_refresh(settings)
    current = settings.published_dir / "current"
    seen = set()
    for path in (current / "by_learning_community").glob("*.xlsx"):
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            for c in _cells(ws):
                assert c.data_type != "f", (path.name, ws.title, c.coordinate, c.value)
                seen.add(str(c.value))
    assert "'" + evil_lc in seen  # published, neutralised, as text
    text = "\n".join(p.read_text() for p in (current / "open_data").glob("*.csv"))
    assert "'" + evil_lc in text and "\n" + evil_lc not in text and "," + evil_lc not in text
    shutil.rmtree(tmp_path / "data", ignore_errors=True)
