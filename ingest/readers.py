"""Read an uploaded file, as MIS exports and DfE tools write them, into a frame of text columns.

CSV: UTF-8, UTF-8 with BOM or Windows-1252; comma, tab, semicolon or pipe separated. Excel
(.xlsx): a named sheet or the first, with the header row wherever it is among the first rows
(DfE downloads put a title block above it). Every value stays text here; typing happens in
``canonical`` so a bad value can be reported with its row and column rather than failing a
whole column.

Only a whole, well-formed file is read. The content is checked against the name first (an
Excel workbook saved with a ``.csv`` name, UTF-16 text, a PDF ... are refused naming what the
file really is), then a CSV's structure: every row must have the header's number of fields and
the file must end with a line break, since a file cut short (as it looks while still being
copied) would otherwise load its cut last row.
"""

from __future__ import annotations

import csv
import io
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ingest.findings import (
    CSV_FIELD_COUNT,
    CSV_LAST_LINE_CUT,
    FILE_EMPTY,
    FILE_ENCODING,
    FILE_TYPE,
    FILE_UNREADABLE,
    REPEATED_HEADER,
    Finding,
    cut,
    file_finding,
)
from ingest.sources import canonical_header

HEADER_SCAN_ROWS = 30
STRUCTURE_FINDINGS_KEPT = 1000  # rows listed per file; the message counts them all
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
READABLE_SUFFIXES = CSV_SUFFIXES + EXCEL_SUFFIXES
SAVE_AS = "save it from Excel as 'CSV UTF-8 (comma delimited)' or as an Excel workbook (.xlsx) and upload it again"

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # a huge cell is read (and reported cut), not a crash


class UnreadableFile(Exception):
    """The file cannot be read as a table (names the file, the problem and the rule)."""

    def __init__(self, path: Path | str, problem: str, rule: str = FILE_UNREADABLE, fix: str | None = None,
                 findings: list[Finding] | None = None):
        self.path = Path(path)
        self.problem = cut(problem, 500)
        self.rule = rule
        self.fix = fix or SAVE_AS
        self._findings = findings
        super().__init__(f"{self.path.name}: {self.problem}")

    @property
    def findings(self) -> list[Finding]:
        """What the quarantine report lists: the rows at fault, or one finding for the whole file."""
        return self._findings or [file_finding(self.path.name, self.rule, self.problem, self.fix)]


@dataclass
class RawTable:
    path: Path
    frame: pl.DataFrame        # original headers, all text, plus "row_number" (as the user sees it)
    header_row: int            # 1-based row of the header line/row in the file
    encoding: str | None
    sheet: str | None = None


# ---------------------------------------------------------------------------------------------
# what a file really is, whatever its name says

def sniff(path: Path) -> str:
    """The kind of content: empty, xlsx, docx, zip, zip_damaged, ole2, pdf, utf16, utf32, binary or text."""
    with open(path, "rb") as f:
        head = f.read(8192)
    if not head.strip():
        return "empty"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except (zipfile.BadZipFile, OSError, EOFError):
            return "zip_damaged"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        if any(n.startswith("word/") for n in names):
            return "docx"
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole2"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf16"
    nuls = head.count(b"\x00")
    if nuls:
        # UTF-16 without a byte-order mark: ASCII text has a NUL in every other byte
        even, odd = head[0::2].count(b"\x00"), head[1::2].count(b"\x00")
        if max(even, odd) > 0.3 * len(head) / 2 and min(even, odd) < 0.05 * len(head) / 2:
            return "utf16"
        return "binary"
    return "text"


_WHAT = {
    "xlsx": "an Excel workbook (.xlsx)",
    "docx": "a Word document",
    "zip": "a zip archive",
    "zip_damaged": "a damaged or incomplete Excel workbook (or zip file)",
    "ole2": "an old-format Excel 97-2003 workbook (.xls) or a password-protected workbook",
    "pdf": "a PDF document",
    "binary": "not a text file (it holds binary data)",
}


def _refuse_content(path: Path, kind: str) -> None:
    """Raise for content Pathways cannot read under this name; return for readable content."""
    suffix = path.suffix.lower()
    name = suffix or "no extension"
    if kind == "empty":
        raise UnreadableFile(path, "the file is empty", FILE_EMPTY, "export the data again; the file has nothing in it")
    if suffix in CSV_SUFFIXES:
        if kind == "text":
            return
        if kind in ("utf16", "utf32"):
            enc = "UTF-16" if kind == "utf16" else "UTF-32"
            raise UnreadableFile(path, f"the file is {enc} text (as Excel's 'Unicode Text' saves it); Pathways reads "
                                       "UTF-8 or Windows-1252", FILE_ENCODING,
                                 "open it in Excel and save it as 'CSV UTF-8 (comma delimited)', then upload it again")
        if kind == "xlsx":
            raise UnreadableFile(path, f"this is an Excel workbook saved with a {name} name", FILE_TYPE,
                                 "rename it to .xlsx, or save it from Excel as 'CSV UTF-8 (comma delimited)'")
        raise UnreadableFile(path, f"this is {_WHAT[kind]}, not a CSV file, although its name ends {name}", FILE_TYPE, SAVE_AS)
    if suffix in EXCEL_SUFFIXES:
        if kind == "xlsx":
            return
        if kind == "text":
            raise UnreadableFile(path, f"this is a text (CSV) file saved with an {name} name", FILE_TYPE,
                                 "rename it to .csv, or open it in Excel and save it as an Excel workbook (.xlsx)")
        if kind == "zip_damaged":
            raise UnreadableFile(path, "the workbook is damaged or incomplete (was it still being copied?)", FILE_UNREADABLE,
                                 "send the complete workbook again")
        raise UnreadableFile(path, f"this is {_WHAT.get(kind, 'not an Excel workbook')}, not an .xlsx workbook", FILE_TYPE,
                             SAVE_AS if kind != "ole2" else "open it in Excel, remove any password and save it as an "
                                                             "Excel workbook (.xlsx) or as CSV UTF-8")
    if suffix == ".xml" and kind == "text":
        with open(path, "rb") as f:
            head = f.read(4096)
        if b"<CTfile" in head:
            raise UnreadableFile(path, "this is a common transfer file (CTF XML): Pathways does not read CTF files yet",
                                 FILE_TYPE, "export the same results from the MIS as a CSV file (one row per pupil) "
                                            "and upload that")
    if suffix == ".xls":
        raise UnreadableFile(path, "old Excel 97-2003 (.xls) format", FILE_TYPE, "save it as .xlsx or .csv and upload again")
    what = f" (it is {_WHAT[kind]})" if kind in _WHAT else ""
    raise UnreadableFile(path, f"unsupported file type '{suffix or 'no extension'}'{what}: Pathways reads .csv and .xlsx",
                         FILE_TYPE, SAVE_AS)


def read_table(path: Path, sheet: str | None = None) -> RawTable:
    path = Path(path)
    if not path.exists():
        raise UnreadableFile(path, "file not found")
    _refuse_content(path, sniff(path))
    table = _read_excel(path, sheet) if path.suffix.lower() in EXCEL_SUFFIXES else _read_csv(path)
    _refuse_repeated_header(table)
    return table


def _refuse_repeated_header(table: RawTable) -> None:
    """The header row again among the data rows: two exports pasted together, or a file appended to."""
    cols = [c for c in table.frame.columns if c != "row_number"]
    if not cols or table.frame.height == 0:
        return
    first = table.frame[cols[0]]
    if not (first.str.to_lowercase() == cols[0].lower()).any():  # cheap: the first column alone
        return
    same = table.frame.filter(pl.all_horizontal([pl.col(c).str.to_lowercase() == c.lower() for c in cols]))
    if same.height == 0:
        return
    findings = [file_finding(table.path.name, REPEATED_HEADER, "the header row appears again among the data rows",
                             "two exports seem to have been pasted together: remove the repeated header row(s), check "
                             "nothing is there twice, and upload the file again", row=r, column=cols[0], value=cols[0])
                for r in same["row_number"].head(STRUCTURE_FINDINGS_KEPT).to_list()]
    raise UnreadableFile(table.path, f"the header row appears again on row {findings[0].row}", REPEATED_HEADER,
                         findings[0].fix, findings)


def read_headers(path: Path) -> list[str]:
    """Just the header names (cheap: CSV reads its first line only), for routing files by source."""
    path = Path(path)
    if path.suffix.lower() in CSV_SUFFIXES:
        _refuse_content(path, sniff(path))
        with open(path, "rb") as f:
            head = f.read(65536)
        try:
            text, _ = _decode(head)
        except UnicodeDecodeError:
            try:
                text, _ = _decode(head[: head.rfind(b"\n")])
            except UnicodeDecodeError as e:
                raise UnreadableFile(path, _encoding_problem(e), FILE_ENCODING) from e
        first = text.lstrip("\r\n").split("\n", 1)[0].rstrip("\r")
        sep = _separator(first)
        return next(csv.reader([first], delimiter=sep), [])
    return [c for c in read_table(path).frame.columns if c != "row_number"]


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="strict"), "windows-1252"


def _encoding_problem(e: UnicodeDecodeError) -> str:
    byte = e.object[e.start:e.start + 1].hex() if isinstance(e.object, bytes | bytearray) else "?"
    return f"the text is neither UTF-8 nor Windows-1252 (byte 0x{byte} at position {e.start:,})"


def _separator(first_line: str) -> str:
    return max([",", "\t", ";", "|"], key=first_line.count)


def _read_csv(path: Path) -> RawTable:
    data = path.read_bytes()
    try:
        text, encoding = _decode(data)
    except UnicodeDecodeError as e:
        raise UnreadableFile(path, _encoding_problem(e), FILE_ENCODING,
                             "save the file as 'CSV UTF-8 (comma delimited)' and upload it again") from e
    text, header_row = _skip_title_block(text)
    first = text.split("\n", 1)[0].rstrip("\r")
    sep = _separator(first)
    header, lines = _check_structure(path, text, sep, header_row)
    if len(header) < 2:
        raise UnreadableFile(path, "found only one column: is the separator a comma or a tab?")
    frame = _polars_frame(text, sep, len(lines))
    if frame is None:  # polars read the text differently (e.g. old Mac line endings): the checked reading
        frame = _csv_module_frame(text, sep, header)
    frame = frame.rename({c: c.strip() for c in frame.columns})
    # a trailing separator on every line makes an unnamed, empty column: not a column of the file
    frame = frame.select([c for c in frame.columns if c or frame[c].null_count() < frame.height])
    frame = frame.with_columns(row_number=pl.Series(lines, dtype=pl.Int64))
    frame = frame.select("row_number", *[c for c in frame.columns if c != "row_number"])
    return RawTable(path, _strip(frame), header_row=header_row, encoding=encoding)


def _skip_title_block(text: str) -> tuple[str, int]:
    """The text from the header line on, and the header's 1-based line: leading blank lines and a
    title block above the header (as some DfE downloads have) are not the table."""
    lines = text[:65536].splitlines(keepends=True)[:HEADER_SCAN_ROWS]
    start, best_hits = 0, 1
    for i, line in enumerate(lines):
        hits = _header_hits(next(csv.reader([line.rstrip("\r\n")], delimiter=_separator(line)), []))
        if hits > best_hits:
            start, best_hits = i, hits
    if best_hits < 2:  # no known header among the first lines: the first non-blank line is the header
        start = next((i for i, line in enumerate(lines) if line.strip()), 0)
    return text[sum(len(line) for line in lines[:start]):], start + 1


def _regular_lines(text: str, sep: str, header_row: int) -> tuple[list[str], list[int]] | None:
    """The fast answer for the common file (no quotes, no blank lines, every line the header's width,
    ending with a line break): counted by polars rather than line by line. None for anything else,
    which the exact reading below then judges."""
    if '"' in text or not text.endswith("\n") or "\r" in text.replace("\r\n", ""):
        return None
    rows = pl.Series(text[:-1].split("\n")).str.strip_suffix("\r")
    header = [h.strip().lstrip("\ufeff") for h in next(csv.reader([rows[0]], delimiter=sep))]
    if not header or header[-1] == "":
        return None
    body = rows.slice(1)
    fields = body.str.count_matches(sep, literal=True) + 1
    if not ((fields == len(header)).all() and (body.str.replace_all(sep, "", literal=True).str.strip_chars() != "").all()):
        return None
    return header, list(range(header_row + 1, header_row + 1 + body.len()))


def _check_structure(path: Path, text: str, sep: str, header_row: int) -> tuple[list[str], list[int]]:
    """The header and the file line each non-empty record starts on; raises on a row with the wrong
    number of fields or a last line cut short."""
    regular = _regular_lines(text, sep, header_row)
    if regular is not None:
        return regular
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    offset = header_row - 1
    findings: list[Finding] = []
    problems = 0
    lines: list[int] = []
    header: list[str] = []
    last_line_end = 0
    trailing = 0
    last: tuple[int, list[str]] | None = None
    width = 0
    try:
        for record in reader:
            start = last_line_end + 1 + offset
            last_line_end = reader.line_num
            if not header:
                header = [h.strip().lstrip("\ufeff") for h in record]
                while header and header[-1] == "" and len(header) > 1:  # a trailing separator on the header
                    header.pop()
                    trailing += 1
                width = len(header)
                continue
            # the common case first, cheaply: a row with the header's fields that is not all blank
            if len(record) != width or not "".join(record).strip():
                if not "".join(record).strip():
                    continue  # a blank line, or one of separators only
                if width < len(record) <= width + trailing and not "".join(record[width:]).strip():
                    record = record[:width]  # the header's trailing separators, repeated on the rows
                if len(record) != width:
                    problems += 1
                    if len(findings) < STRUCTURE_FINDINGS_KEPT:
                        findings.append(_field_count_finding(path.name, start, record, header))
            last = (start, record)
            lines.append(start)
    except csv.Error as e:
        line = reader.line_num + offset
        if "unexpected end of data" in str(e) or "EOF" in str(e):
            raise UnreadableFile(path, f"the file stops inside a quoted value that is never closed (from row {line}): "
                                       "it was cut short, or was still being copied", CSV_LAST_LINE_CUT,
                                 "send the complete file again") from e
        raise UnreadableFile(path, f"not a readable CSV table at row {line}: {e}", FILE_UNREADABLE) from e
    # GIAS downloads end without a line break after the last row; a last row with every field and a
    # closed quote at its very end is whole (a cut inside the quotes fails the parse above)
    whole = last is not None and len(last[1]) == width and text.endswith('"')
    if not text.endswith(("\n", "\r")) and last is not None and not whole:
        line, record = last
        if findings and findings[-1].row == line:  # the cut line is short because it is cut: one finding, not two
            findings.pop()
            problems -= 1
        column = header[min(len(record), len(header)) - 1] if header else None
        findings.insert(0, file_finding(
            path.name, CSV_LAST_LINE_CUT,
            "the file stops part-way through its last line (no line break at the end): it may have been read while "
            "still being copied, or been cut short",
            "send the complete file again; if the file is complete, open it and save it again so its last line ends "
            "with a line break", row=line, column=column, value=record[-1] if record else None,
            detail=f"{len(record)} of {len(header)} fields present"))
        problems += 1
    if findings:
        first = findings[0]
        what = ("the last line is cut short" if first.rule == CSV_LAST_LINE_CUT
                else f"{problems:,} row(s) have a different number of fields from the header ({len(header)})")
        raise UnreadableFile(path, what, first.rule, first.fix, findings)
    return header, lines


def _field_count_finding(file: str, line: int, record: list[str], header: list[str]) -> Finding:
    n, width = len(record), len(header)
    if n < width:
        column, value = header[n], None
        detail = f"{n} fields, the header has {width}: the row ends before column '{header[n]}'"
    else:
        column, value = f"(field {width + 1}, after '{header[-1]}')", record[width]
        detail = f"{n} fields, the header has {width}"
    return file_finding(file, CSV_FIELD_COUNT, "the row has a different number of fields from the header",
                        "check for a separator (comma) inside an unquoted value, or a row cut short; quote values "
                        "that contain the separator, then save and upload the file again",
                        row=line, column=column, value=value, detail=detail)


def _polars_frame(text: str, sep: str, rows: int) -> pl.DataFrame | None:
    """The records read by polars (fast), or None when it does not see as many rows as the check saw."""
    try:
        frame = pl.read_csv(io.StringIO(text), separator=sep, infer_schema=False, quote_char='"',
                            truncate_ragged_lines=True)
    except pl.exceptions.PolarsError:
        return None
    cols = frame.columns
    if cols and frame.height != rows:  # blank lines (or lines of separators only) are rows to polars
        frame = frame.filter(~pl.all_horizontal([pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in cols]))
    if frame.height != rows:
        return None
    return frame


def _csv_module_frame(text: str, sep: str, header: list[str]) -> pl.DataFrame:
    """The same records through Python's csv module (slower; exact on any line ending)."""
    width = len(header)
    rows = [r[:width] for r in csv.reader(io.StringIO(text, newline=""), delimiter=sep) if any(v.strip() for v in r)][1:]
    names = _dedupe([h if h else f"column_{i + 1}" for i, h in enumerate(header)])
    return pl.DataFrame({n: pl.Series(n, [r[i] for r in rows], dtype=pl.String) for i, n in enumerate(names)})


def _read_excel(path: Path, sheet: str | None) -> RawTable:
    try:
        import fastexcel

        reader = fastexcel.read_excel(str(path))
        names = reader.sheet_names
    except Exception as e:
        raise UnreadableFile(path, f"not a readable Excel workbook (damaged or incomplete?): {str(e).splitlines()[0]}") from e
    if sheet is not None and sheet not in names:
        raise UnreadableFile(path, f"no sheet named '{sheet}' (sheets: {', '.join(names)})")
    sheet_name = sheet or (_sheet_with_data(reader, names) if len(names) > 1 else names[0])
    try:
        grid = pl.read_excel(path, sheet_name=sheet_name, has_header=False, infer_schema_length=0,
                             drop_empty_rows=False, drop_empty_cols=False)
    except Exception as e:
        if "empty" in str(e).lower():
            raise UnreadableFile(path, f"sheet '{sheet_name}' is empty", FILE_EMPTY,
                                 "export the data again; the sheet is empty") from e
        raise UnreadableFile(path, f"sheet '{sheet_name}' cannot be read: {str(e).splitlines()[0]}") from e
    if grid.height == 0:
        raise UnreadableFile(path, f"sheet '{sheet_name}' is empty", FILE_EMPTY, "export the data again; the sheet is empty")
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
    body = body.filter(~pl.all_horizontal([pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in data_cols]))
    body = body.select([c for c in body.columns if not (c.startswith("column_") and body[c].null_count() == body.height)])
    return RawTable(path, _strip(body), header_row=best + 1, encoding=None, sheet=sheet_name)


def _header_hits(cells) -> int:
    """How many cells of a row are column names Pathways knows."""
    return sum(canonical_header(str(c)) is not None for c in cells if c not in (None, ""))


def _sheet_with_data(reader, names: list[str]) -> str:
    """The first sheet whose first rows hold a header Pathways knows (a notes or cover sheet may
    come first); the first sheet when none does."""
    best, best_hits = names[0], 1
    for name in names:
        try:
            top = reader.load_sheet(name, header_row=None, n_rows=HEADER_SCAN_ROWS, dtypes="string").to_polars()
        except Exception:  # noqa: BLE001 - a sheet that cannot be scanned is not the data sheet
            continue
        hits = max((_header_hits(row) for row in top.iter_rows()), default=0)
        if hits > best_hits:
            best, best_hits = name, hits
    return best


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
