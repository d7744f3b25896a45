"""Subject access: every record Pathways holds about one pupil, in a form an officer can read.

Given a pupil's UPN (or several: a temporary UPN and the permanent one that replaced it), it
looks wherever Pathways keeps pupil data:

- the **warehouse**: raw rows by the pupil's keyed pseudonym (computed from the UPN with the
  key), with their lineage (which upload, which row, when loaded), and the pupil-level model
  rows derived from them;
- the **files**: every archived upload, quarantined upload, upload held for confirmation and
  file waiting in the inbox,
  searched for the UPN in any cell (these hold what the warehouse does not: names, dates of
  birth), row by row, field by field;
- the **processing log** entries about the pupil (an earlier subject access or erasure), and
  whether the pupil has been erased;
- **elsewhere**: any file of the Dagster run history that mentions the UPN.

Published figures are aggregates and hold no record of any pupil, so they are not searched.
The export (``write_export``) holds this pupil's rows only: rows of other pupils are never
read into it, and the files' other rows are left out.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from config.settings import Settings
from ingest import processing_log, pupil_records
from ingest.file_redaction import is_table_file, mentions, rows_holding
from ingest.identifiers import is_valid_upn, pseudonymise
from ingest.readers import UnreadableFile
from ingest.retention import SUBJECT_ACCESS_DIR

REPORT_NAMES = ("report.txt", "report.json", "report.html")


@dataclass
class FileRows:
    location: str             # archive | quarantine | held | inbox
    path: str
    upload: dict | None       # the upload record, when the file was loaded
    sheet: str | None
    header_row: int
    rows: pl.DataFrame        # the pupil's rows, as written in the file (+ row_number)


@dataclass
class SubjectAccess:
    upns: list[str]
    pupil_keys: list[str]
    searched_at: str
    searched_by: str
    raw: dict[str, pl.DataFrame] = field(default_factory=dict)
    derived: dict[str, pl.DataFrame] = field(default_factory=dict)
    uploads: pl.DataFrame = field(default_factory=pl.DataFrame)
    files: list[FileRows] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)          # quarantine reports mentioning the pupil
    erased: bool = False
    log_entries: list[dict] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    files_searched: int = 0

    @property
    def found(self) -> bool:
        return bool(sum(f.height for f in self.raw.values()) or self.derived or self.files or self.reports or self.elsewhere)

    def summary(self) -> dict:
        return {
            "warehouse_rows": {t: f.height for t, f in self.raw.items() if f.height},
            "pupil_level_model_rows": {t: f.height for t, f in self.derived.items()},
            "uploads": self.uploads.height,
            "file_rows": {loc: sum(f.rows.height for f in self.files if f.location == loc)
                          for loc in ("archive", "quarantine", "held", "inbox")},
            "files_with_rows": len(self.files),
            "files_searched": self.files_searched,
            "quarantine_reports": len(self.reports),
            "erased": self.erased,
            "elsewhere": len(self.elsewhere),
        }

    def summary_rows(self) -> list[tuple[str, str]]:
        """The summary in words, for the export's first table and sheet."""
        s = self.summary()
        listed = lambda d: ", ".join(f"{k} {v:,}" for k, v in d.items()) or "none"  # noqa: E731
        return [
            ("Rows in the warehouse (pseudonymised)", listed({f"raw.{t}": n for t, n in s["warehouse_rows"].items()})),
            ("Pupil-level model rows", listed(s["pupil_level_model_rows"])),
            ("Uploads holding the pupil", str(s["uploads"])),
            ("Rows in files as received", listed(s["file_rows"]) + f" (in {s['files_with_rows']} of {s['files_searched']} files searched)"),
            ("Quarantine reports mentioning the pupil", str(s["quarantine_reports"])),
            ("Erased", "yes: only a keyed pseudonym is kept, so their rows are refused" if self.erased else "no"),
            ("Mentioned elsewhere", "; ".join(self.elsewhere) or "nowhere"),
        ]

    def describe(self) -> str:
        s = self.summary()
        lines = [f"Subject access search for {', '.join(self.upns)} (pseudonym {', '.join(self.pupil_keys)})",
                 "  warehouse rows: " + (", ".join(f"raw.{t} {n:,}" for t, n in s["warehouse_rows"].items()) or "none"),
                 "  pupil-level model rows: " + (", ".join(f"{t} {n:,}" for t, n in s["pupil_level_model_rows"].items()) or "none"),
                 f"  uploads holding the pupil: {s['uploads']}; file rows: archive {s['file_rows']['archive']}, "
                 f"quarantine {s['file_rows']['quarantine']}, held {s['file_rows']['held']}, inbox {s['file_rows']['inbox']} "
                 f"(in {s['files_with_rows']} of {s['files_searched']} files searched)"]
        if self.reports:
            lines.append(f"  quarantine reports mentioning the pupil: {len(self.reports)}")
        if self.erased:
            lines.append("  this pupil has been erased: Pathways refuses their rows in any upload")
        for e in self.elsewhere:
            lines.append(f"  also mentioned in: {e}")
        for p in self.problems:
            lines.append(f"  could not search: {p}")
        if not self.found:
            lines.append("  nothing found")
        return "\n".join(lines)


def search(settings: Settings, upns: list[str]) -> SubjectAccess:
    """Find every record about the pupil with these UPNs (reads only)."""
    upns = [u.strip().upper() for u in upns]
    bad = [u for u in upns if not is_valid_upn(u)]
    if bad:
        raise ValueError(f"not a valid UPN (13 characters with the right check letter): {', '.join(bad)}")
    keys = pseudonymise(pl.Series(upns), settings.key).to_list()
    result = SubjectAccess(upns, keys, datetime.now(UTC).isoformat(), processing_log.current_user())
    uploads_by_file: dict[str, dict] = {}
    if settings.warehouse.exists():
        try:
            con = duckdb.connect(str(settings.warehouse), read_only=True)
        except duckdb.Error as e:
            raise RuntimeError("the warehouse is busy (a refresh or purge is running): try again when it has finished") from e
        with con:
            result.raw = pupil_records.raw_rows(con, keys)
            result.derived = pupil_records.derived_rows(con, keys)
            result.erased = bool(pupil_records.erased(con, keys))
            all_uploads = pupil_records.uploads(con)
            for u in all_uploads.iter_rows(named=True) if all_uploads.height else []:
                uploads_by_file[Path(u["archived_path"]).name] = u
    _search_files(settings, upns, uploads_by_file, result)
    ids = sorted({i for f in result.raw.values() if f.height for i in f["upload_id"].unique().to_list()} |
                 {f.upload["upload_id"] for f in result.files if f.upload})
    if uploads_by_file:
        frame = pl.DataFrame([u for u in uploads_by_file.values() if u["upload_id"] in ids])
        if frame.height:
            in_wh = {i: sum(int((f["upload_id"] == i).sum()) for f in result.raw.values() if f.height) for i in ids}
            in_file = {f.upload["upload_id"]: f.rows.height for f in result.files if f.upload}
            frame = frame.with_columns(
                rows_about_pupil_in_warehouse=pl.col("upload_id").replace_strict(in_wh, default=0, return_dtype=pl.Int64),
                rows_about_pupil_in_file=pl.col("upload_id").replace_strict(in_file, default=0, return_dtype=pl.Int64))
            result.uploads = frame.drop("rows").rename({"live": "still_live"})
    result.log_entries = [e for e in processing_log.read(settings.data_dir)
                          if set(keys) & set((e.get("details") or {}).get("pupil_keys", []))]
    result.elsewhere = dagster_mentions(settings, upns)
    return result


def _search_files(settings: Settings, upns: list[str], uploads_by_file: dict[str, dict], result: SubjectAccess) -> None:
    places = [("archive", p) for p in sorted(settings.archive_dir.glob("*")) if p.is_file()] if settings.archive_dir.exists() else []
    # quarantined uploads and uploads held for confirmation are kept the same way: the file beside its reports
    for location, root in (("quarantine", settings.quarantine_dir), ("held", settings.held_dir)):
        for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []:
            for p in sorted(folder.iterdir()):
                if p.name in REPORT_NAMES:
                    if mentions(p, upns):
                        result.reports.append(str(p))
                elif p.is_file() and not p.name.startswith("."):
                    places.append((location, p))
    if settings.inbox_dir.exists():
        places += [("inbox", p) for p in sorted(settings.inbox_dir.rglob("*")) if p.is_file() and not p.name.startswith(".")]
    for location, path in places:
        if path.name.startswith(".") or not is_table_file(path):
            continue
        result.files_searched += 1
        if not mentions(path, upns):
            continue
        try:
            found = rows_holding(path, upns)
        except (UnreadableFile, Exception) as e:  # a file that cannot be read as a table: say so, keep going
            result.problems.append(f"{location}/{path.name}: {e}")
            continue
        for f in found:
            result.files.append(FileRows(location, str(path), uploads_by_file.get(path.name) if location == "archive" else None,
                                         f.sheet, f.header_row, f.rows))


def dagster_mentions(settings: Settings, upns: list[str]) -> list[str]:
    """Files of the Dagster run history (logs, event storage) that mention any of the UPNs."""
    home = settings.dagster_home
    if not home.exists():
        return []
    wanted = [u.encode() for u in upns]
    out = []
    for p in sorted(home.rglob("*")):
        if not p.is_file() or p.stat().st_size > 2_000_000_000:
            continue
        try:
            data = p.read_bytes()
        except OSError:
            continue
        if any(w in data for w in wanted):
            out.append(f"Dagster run history: {p.relative_to(home)}")
    return out


# --- the export ---------------------------------------------------------------------------------

def export_folder(settings: Settings, result: SubjectAccess) -> Path:
    stamp = datetime.fromisoformat(result.searched_at).strftime("%Y%m%dT%H%M%S")
    return settings.data_dir / SUBJECT_ACCESS_DIR / f"{stamp}-{result.pupil_keys[0][:8]}"


def write_export(result: SubjectAccess, folder: Path) -> list[Path]:
    """``subject_access.html`` (to read and print) and ``subject_access.xlsx`` (every record, one
    sheet per place) in ``folder``, readable by the owner only."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    page = folder / "subject_access.html"
    page.write_text(_html(result))
    book = folder / "subject_access.xlsx"
    _xlsx(result, book)
    for p in (page, book):
        os.chmod(p, 0o600)
    return [page, book]


def file_rows_long(result: SubjectAccess) -> pl.DataFrame:
    """Every field of every row in the files, one line each: where, which row, which field, the value."""
    out = []
    for f in result.files:
        for row in f.rows.iter_rows(named=True):
            for col, value in row.items():
                if col != "row_number":
                    out.append({"location": f.location, "file": Path(f.path).name,
                                "original_file_name": (f.upload or {}).get("source_file"), "sheet": f.sheet,
                                "row": row["row_number"], "field": col, "value": value})
    return pl.DataFrame(out, schema={"location": pl.String, "file": pl.String, "original_file_name": pl.String,
                                     "sheet": pl.String, "row": pl.Int64, "field": pl.String, "value": pl.String})


def _xlsx(result: SubjectAccess, path: Path) -> None:
    import xlsxwriter

    with xlsxwriter.Workbook(str(path)) as wb:
        bold = wb.add_format({"bold": True})
        ws = wb.add_worksheet("Summary")
        for i, (k, v) in enumerate([("UPN searched", ", ".join(result.upns)), ("Pseudonym (pupil_key)", ", ".join(result.pupil_keys)),
                                    ("Searched at (UTC)", result.searched_at), ("Searched by", result.searched_by),
                                    *result.summary_rows()]):
            ws.write(i, 0, k, bold)
            ws.write(i, 1, v)
        used = {"Summary"}

        def sheet(name: str, frame: pl.DataFrame) -> None:
            title = name[:31]
            n = 2
            while title in used:
                title = f"{name[:28]}_{n}"
                n += 1
            used.add(title)
            frame.with_columns(pl.col(c).cast(pl.String) for c, t in frame.schema.items()
                               if not t.is_numeric()).write_excel(wb, worksheet=title, autofit=True)

        if result.uploads.height:
            sheet("Uploads", result.uploads)
        for t, f in result.raw.items():
            if f.height:
                sheet(f"Warehouse raw.{t}", f)
        for t, f in result.derived.items():
            sheet(f"Model {t.split('.')[-1]}", f)
        long = file_rows_long(result)
        if long.height:
            sheet("Rows as received", long)


def _table(frame: pl.DataFrame) -> str:
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{'' if v is None else e(str(v))}</td>" for v in row) + "</tr>"
                   for row in frame.iter_rows())
    return f"<table><tr>{head}</tr>{body}</table>"


def _html(r: SubjectAccess) -> str:
    e = html.escape
    parts = [f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Subject access: {e(', '.join(r.upns))}</title>
<style>body{{font-family:system-ui,Segoe UI,Arial,sans-serif;margin:2rem;max-width:80rem;color:#222}}
table{{border-collapse:collapse;margin:.4rem 0 1.2rem;font-size:.85rem}} th,td{{border:1px solid #bbb;padding:.2rem .4rem;text-align:left}}
th{{background:#eee}} h2{{margin-top:2rem;border-bottom:1px solid #999}} .note{{color:#555}}</style></head><body>
<h1>Subject access: records held about UPN {e(', '.join(r.upns))}</h1>
<p>Searched {e(r.searched_at)} (UTC) by {e(r.searched_by)}. In the warehouse this pupil is known only by the keyed
pseudonym <code>{e(', '.join(r.pupil_keys))}</code>, computed from the UPN with the authority's key; the uploaded
files themselves (archive, quarantine, inbox) hold the UPN and whatever else the file carried (names, dates of birth).
Only this pupil's rows are shown.</p>"""]
    rows = r.summary_rows()
    parts.append("<h2>Summary</h2>" + _table(pl.DataFrame({"held": [k for k, _ in rows], "what": [v for _, v in rows]})))
    if r.erased:
        parts.append("<p><b>This pupil has been erased.</b> Pathways keeps only the keyed pseudonym, as a tombstone, so that "
                     "their rows are refused if an old file is uploaded again.</p>")
    parts.append("<h2>Uploads that hold records about the pupil</h2>")
    parts.append(_table(r.uploads) if r.uploads.height else "<p>None.</p>")
    parts.append("<h2>Rows in the warehouse (pseudonymised; names and dates of birth are not kept there)</h2>")
    parts.append('<p class="note">Lineage: <code>upload_id</code> and <code>source_file</code> name the upload, '
                 "<code>row_number</code> the row in that file, <code>loaded_at</code> when it was loaded.</p>")
    for t, f in r.raw.items():
        parts.append(f"<h3>raw.{e(t)}: {f.height} rows</h3>" + (_table(f) if f.height else "<p>None.</p>"))
    parts.append("<h2>Pupil-level model rows derived from them (rebuilt on every refresh)</h2>")
    parts.append("".join(f"<h3>{e(t)}: {f.height} rows</h3>{_table(f)}" for t, f in r.derived.items()) or "<p>None.</p>")
    parts.append("<h2>Rows in the files as received</h2>")
    for f in r.files:
        label = (f.upload or {}).get("source_file") or Path(f.path).name
        parts.append(f"<h3>{e(f.location)}: {e(label)}" + (f", sheet {e(f.sheet)}" if f.sheet else "") +
                     f" ({e(Path(f.path).name)}; header on row {f.header_row})</h3>" + _table(f.rows))
    if not r.files:
        parts.append("<p>None.</p>")
    if r.reports:
        parts.append("<h2>Quarantine reports that mention the pupil</h2><ul>" +
                     "".join(f"<li>{e(p)}</li>" for p in r.reports) + "</ul>")
    if r.elsewhere:
        parts.append("<h2>Mentioned elsewhere</h2><ul>" + "".join(f"<li>{e(p)}</li>" for p in r.elsewhere) + "</ul>")
    if r.log_entries:
        parts.append("<h2>Processing log entries about the pupil</h2>" +
                     _table(pl.DataFrame([{k: str(v) for k, v in x.items() if k in ("at", "actor", "action", "outcome")}
                                          for x in r.log_entries])))
    parts.append('<h2>Not held here</h2><p class="note">Published figures (data/published/) are aggregates, suppressed so '
                 "that no child can be identified: they hold no record of this or any pupil. " +
                 (f"Could not search: {e('; '.join(r.problems))}" if r.problems else "") + "</p></body></html>")
    return "\n".join(parts)
