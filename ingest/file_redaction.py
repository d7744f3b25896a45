"""Finding a pupil's rows in an uploaded file, and writing the file again without some rows.

Uploads are kept as they came (CSV, .xlsx), names and dates of birth included, so subject
access must search them and erasure or retention must be able to remove rows from them.
Rows are numbered exactly as ``ingest.readers`` numbers them (the raw layer's ``row_number``):
a CSV row by its line in the file, an Excel row by its row in the sheet. A rewrite keeps every
other byte of a CSV file as it was (encoding, separator, line endings); a workbook is written
again with every sheet's cells as text (what Pathways reads), without formatting.

Every rewrite is checked by reading the result back: the right number of rows per sheet, and
none of the forbidden values (the erased UPNs) anywhere in the file. A rewrite that fails the
check raises before anything is changed.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from ingest.identifiers import pseudonymise
from ingest.readers import RawTable, UnreadableFile, _decode, read_table

TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
UPN_SHAPE = r"^[A-HJ-NP-RT-Z][0-9]{11}[0-9A-HJ-NP-RT-Z]$"


class RewriteFailed(Exception):
    """A file could not be rewritten safely; nothing was changed."""


def is_table_file(path: Path) -> bool:
    return path.suffix.lower() in TEXT_SUFFIXES + EXCEL_SUFFIXES


def mentions(path: Path, needles: list[str]) -> bool:
    """Cheap first pass: could the file hold any of these values? (bytes of a CSV; every XML part
    of a workbook). False means certainly not; True means read it to find out."""
    wanted = [n.encode() for n in needles if n]
    try:
        if path.suffix.lower() in EXCEL_SUFFIXES:
            with zipfile.ZipFile(path) as z:
                return any(any(w in z.read(m) for w in wanted) for m in z.namelist() if m.endswith(".xml"))
        data = path.read_bytes()
    except (OSError, zipfile.BadZipFile):
        return False
    upper = data.upper()
    return any(w.upper() in upper for w in wanted)


def sheets(path: Path) -> list[RawTable]:
    """Every sheet of a workbook (the one table of a CSV), read as ``ingest.readers`` reads it."""
    if path.suffix.lower() in EXCEL_SUFFIXES:
        import fastexcel

        names = fastexcel.read_excel(str(path)).sheet_names
        return [t for t in (_read_sheet(path, n) for n in names) if t is not None]  # (an empty sheet is skipped)
    return [read_table(path)]


@dataclass
class FoundRows:
    sheet: str | None
    header_row: int
    rows: pl.DataFrame      # the rows as written in the file (original headers) + row_number


def rows_holding(path: Path, upns: list[str]) -> list[FoundRows]:
    """The rows of any sheet where a cell is one of these UPNs (case and spaces ignored)."""
    wanted = [u.strip().upper() for u in upns]
    found = []
    for table in sheets(path):
        cols = [c for c, t in table.frame.schema.items() if t == pl.String]
        if not cols:
            continue
        hit = pl.any_horizontal([pl.col(c).str.strip_chars().str.to_uppercase().is_in(wanted).fill_null(False) for c in cols])
        rows = table.frame.filter(hit)
        if rows.height:
            found.append(FoundRows(table.sheet, table.header_row, rows))
    return found


def rows_of_pupil_keys(path: Path, pupil_keys: set[str], key: bytes, known: RawTable | None = None
                       ) -> dict[str | None, set[int]]:
    """Rows (per sheet; a CSV's under ``None``) with a UPN-shaped cell whose keyed hash is one of
    ``pupil_keys``: how an incoming file is checked for erased pupils, whose UPNs Pathways no
    longer knows. ``known``: a sheet already read (not read again)."""
    out: dict[str | None, set[int]] = {}
    if path.suffix.lower() in EXCEL_SUFFIXES:
        import fastexcel

        names = fastexcel.read_excel(str(path)).sheet_names
        tables = [known if known is not None and known.sheet == n else _read_sheet(path, n) for n in names]
    else:
        tables = [known if known is not None else read_table(path)]
    for table in [t for t in tables if t is not None]:
        for c, t in table.frame.schema.items():
            if t != pl.String:
                continue
            col = table.frame[c].str.strip_chars().str.to_uppercase()
            shaped = col.str.contains(UPN_SHAPE).fill_null(False)
            if not shaped.any():
                continue
            keys = pseudonymise(col.filter(shaped), key)
            rows = table.frame["row_number"].filter(shaped).filter(keys.is_in(list(pupil_keys)))
            if rows.len():
                out.setdefault(table.sheet if path.suffix.lower() in EXCEL_SUFFIXES else None, set()).update(rows.to_list())
    return out


def _read_sheet(path: Path, name: str) -> RawTable | None:
    try:
        return read_table(path, name)
    except UnreadableFile:
        return None


def rewrite_without(path: Path, out: Path, drop: dict[str | None, set[int]], forbidden: list[str] = ()) -> int:
    """Write ``path`` to ``out`` without the rows ``drop`` names (per sheet: row numbers as the
    reader numbers them; ``None`` for a CSV), check the result, and return the rows removed."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        _rewrite_csv(path, out, drop.get(None, set()))
    elif suffix in EXCEL_SUFFIXES:
        _rewrite_xlsx(path, out, drop)
    else:
        raise RewriteFailed(f"{path.name}: cannot rewrite a '{suffix}' file")
    removed = sum(len(r) for r in drop.values())
    _check(path, out, drop, forbidden)
    return removed


def renumbering(old: Path, new: Path, dropped: set[int], sheet: str | None = None) -> list[tuple[int, int]]:
    """(old row_number, new row_number) of every row kept, for the sheet the upload was loaded
    from (the first, unless named), so lineage can follow the rows into the rewritten file."""
    before = read_table(old, sheet).frame["row_number"]
    after = read_table(new, sheet).frame["row_number"]
    kept = [r for r in before.to_list() if r not in dropped]
    if len(kept) != after.len():
        raise RewriteFailed(f"{old.name}: {len(kept)} rows should remain but the rewritten file has {after.len()}")
    return list(zip(kept, after.to_list()))


def _rewrite_csv(path: Path, out: Path, drop: set[int]) -> None:
    data = path.read_bytes()
    text, encoding = _decode(data)
    lines = text.split("\n")
    kept = [line for n, line in enumerate(lines, start=1) if n not in drop]
    body = "\n".join(kept)
    if encoding == "utf-8-sig":
        out.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    else:
        out.write_bytes(body.encode(encoding))


def _rewrite_xlsx(path: Path, out: Path, drop: dict[str | None, set[int]]) -> None:
    import fastexcel
    import xlsxwriter

    names = fastexcel.read_excel(str(path)).sheet_names
    buf = io.BytesIO()
    # a fixed creation time: the same rewrite of the same file gives the same bytes (and sha256)
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                   "strings_to_urls": False})
    wb.set_properties({"created": datetime(2000, 1, 1)})
    for name in names:
        ws = wb.add_worksheet(name)
        try:
            grid = pl.read_excel(path, sheet_name=name, has_header=False, infer_schema_length=0,
                                 drop_empty_rows=False, drop_empty_cols=False)
        except Exception:
            continue  # an empty sheet stays empty
        gone = {r - 1 for r in drop.get(name, set())}
        if name == names[0]:
            gone |= {r - 1 for r in drop.get(None, set())}
        r_out = 0
        for i, row in enumerate(grid.iter_rows()):
            if i in gone:
                continue
            for j, v in enumerate(row):
                if v is not None:
                    ws.write_string(r_out, j, str(v))
            r_out += 1
    wb.close()
    out.write_bytes(buf.getvalue())


def _check(old: Path, new: Path, drop: dict[str | None, set[int]], forbidden: list[str]) -> None:
    try:
        before = {t.sheet: t.frame.height for t in sheets(old)}
        after = {t.sheet: t.frame.height for t in sheets(new)}
    except UnreadableFile as e:
        raise RewriteFailed(f"{old.name}: the rewritten file cannot be read back ({e.problem})") from e
    first = next(iter(before), None)
    for sheet, n in before.items():
        gone = len(drop.get(sheet, set()) | (drop.get(None, set()) if sheet == first else set()))
        if after.get(sheet, 0) != n - gone:
            raise RewriteFailed(f"{old.name}: sheet {sheet or '(csv)'} should have {n - gone} rows after the rewrite, "
                                f"not {after.get(sheet, 0)}")
    if forbidden and mentions(new, list(forbidden)):
        # a UPN left anywhere (another column, a note): the officer must look at this file by hand
        raise RewriteFailed(f"{old.name}: the rewritten file would still mention the pupil outside the rows "
                            "removed; nothing was changed - edit this upload by hand")
