"""Read an uploaded file, as MIS exports and DfE tools write them, into a frame of text columns.

CSV: UTF-8, UTF-8 with BOM or Windows-1252; comma, tab or semicolon separated. Excel
(.xlsx): a named sheet or the first, with the header row wherever it is among the first rows
(DfE downloads put a title block above it). Every value stays text here; typing happens in
``canonical`` so a bad value can be reported with its row and column rather than failing a
whole column.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ingest.sources import canonical_header

HEADER_SCAN_ROWS = 30


class UnreadableFile(Exception):
    """The file cannot be read as a table at all (names the file and the problem)."""

    def __init__(self, path: Path | str, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{Path(path).name}: {problem}")


@dataclass
class RawTable:
    path: Path
    frame: pl.DataFrame        # original headers, all text, plus "row_number" (as the user sees it)
    header_row: int            # 1-based row of the header line/row in the file
    encoding: str | None
    sheet: str | None = None


def read_table(path: Path, sheet: str | None = None) -> RawTable:
    path = Path(path)
    if not path.exists():
        raise UnreadableFile(path, "file not found")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_excel(path, sheet)
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_csv(path)
    if suffix == ".xls":
        raise UnreadableFile(path, "old Excel 97-2003 (.xls) format: save it as .xlsx or .csv and upload again")
    raise UnreadableFile(path, f"unsupported file type '{suffix}': upload .csv or .xlsx")


def read_headers(path: Path) -> list[str]:
    """Just the header names (cheap: CSV reads its first line only), for routing files by source."""
    path = Path(path)
    if path.suffix.lower() in (".csv", ".txt", ".tsv"):
        with open(path, "rb") as f:
            head = f.read(65536)
        try:
            text, _ = _decode(head)
        except UnicodeDecodeError:
            text, _ = _decode(head[: head.rfind(b"\n")])
        first = text.split("\n", 1)[0].rstrip("\r")
        sep = max([",", "\t", ";"], key=first.count)
        return [h.strip().strip('"') for h in first.split(sep)]
    return [c for c in read_table(path).frame.columns if c != "row_number"]


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="strict"), "windows-1252"


def _read_csv(path: Path) -> RawTable:
    data = path.read_bytes()
    if not data.strip():
        raise UnreadableFile(path, "the file is empty")
    if data[:4] == b"PK\x03\x04":
        raise UnreadableFile(path, "this is an Excel workbook saved with a .csv name: rename it to .xlsx")
    try:
        text, encoding = _decode(data)
    except UnicodeDecodeError as e:
        raise UnreadableFile(path, f"text is neither UTF-8 nor Windows-1252 (byte {e.start})") from e
    first = text.split("\n", 1)[0]
    sep = max([",", "\t", ";"], key=first.count)
    try:
        frame = pl.read_csv(io.StringIO(text), separator=sep, infer_schema=False, quote_char='"',
                            truncate_ragged_lines=False)
    except pl.exceptions.PolarsError as e:  # ComputeError / NoDataError carry a useful first line
        kind = "tab" if sep == "\t" else "comma"
        raise UnreadableFile(path, f"not a readable {kind}-separated table: {str(e).splitlines()[0]}") from e
    if frame.width < 2:
        raise UnreadableFile(path, "found only one column: is the separator a comma or a tab?")
    frame = frame.rename({c: c.strip() for c in frame.columns})
    # data row i (0-based) is on line i + 2 of the file (line 1 is the header)
    frame = frame.with_row_index("row_number", offset=2).with_columns(pl.col("row_number").cast(pl.Int64))
    return RawTable(path, _strip(frame), header_row=1, encoding=encoding)


def _read_excel(path: Path, sheet: str | None) -> RawTable:
    try:
        import fastexcel

        reader = fastexcel.read_excel(str(path))
        names = reader.sheet_names
    except Exception as e:
        raise UnreadableFile(path, f"not a readable Excel workbook: {str(e).splitlines()[0]}") from e
    if sheet is not None and sheet not in names:
        raise UnreadableFile(path, f"no sheet named '{sheet}' (sheets: {', '.join(names)})")
    sheet_name = sheet or names[0]
    try:
        grid = pl.read_excel(path, sheet_name=sheet_name, has_header=False, infer_schema_length=0,
                             drop_empty_rows=False, drop_empty_cols=False)
    except Exception as e:
        raise UnreadableFile(path, f"sheet '{sheet_name}' cannot be read: {str(e).splitlines()[0]}") from e
    if grid.height == 0:
        raise UnreadableFile(path, f"sheet '{sheet_name}' is empty")
    # the header is the first row (among the first few) where most cells are known column names
    best, best_hits = 0, -1
    for i, row in enumerate(grid.head(HEADER_SCAN_ROWS).iter_rows()):
        cells = [c for c in row if c not in (None, "")]
        hits = sum(canonical_header(c) is not None for c in cells)
        if hits > best_hits and hits >= 2:
            best, best_hits = i, hits
    header = [str(c).strip() if c not in (None, "") else f"column_{j + 1}" for j, c in enumerate(grid.row(best))]
    body = grid.slice(best + 1)
    body.columns = _dedupe(header)
    body = body.with_row_index("row_number", offset=best + 2).with_columns(pl.col("row_number").cast(pl.Int64))
    # drop wholly empty rows and unnamed empty columns (Excel formatting leaves them behind)
    data_cols = [c for c in body.columns if c != "row_number"]
    body = body.filter(~pl.all_horizontal([pl.col(c).is_null() | (pl.col(c) == "") for c in data_cols]))
    body = body.select([c for c in body.columns if not (c.startswith("column_") and body[c].null_count() == body.height)])
    return RawTable(path, _strip(body), header_row=best + 1, encoding=None, sheet=sheet_name)


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


def _strip(frame: pl.DataFrame) -> pl.DataFrame:
    text = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns([pl.col(c).str.strip_chars().replace("", None) for c in text])

