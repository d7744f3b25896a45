"""Validation reports a data lead can read: text for the terminal, JSON for tools, HTML to open.

Findings are grouped by rule (what is wrong, how many rows, how to fix it) and then listed
row by row: file, row, column, value (as the file writes it) and what else explains it. The HTML
page is self-contained (no web fonts or CDN). Size is bounded: values are cut (with a marker)
where the finding is made, the text lists 20 rows per rule and the HTML 500.
"""

from __future__ import annotations

import html
import json
from collections import OrderedDict
from dataclasses import dataclass

from ingest.canonical import Finding

ROWS_SHOWN_PER_RULE = 20


@dataclass
class Summary:
    file: str
    source: str
    rows: int
    errors: int
    warnings: int
    seconds: float | None = None
    holds: int = 0

    @property
    def verdict(self) -> str:
        if self.errors:
            return "INVALID"
        if self.holds:
            return "HELD FOR CONFIRMATION"
        return "VALID WITH WARNINGS" if self.warnings else "VALID"


def summarise(file: str, source: str, rows: int, findings: list[Finding], seconds: float | None = None) -> Summary:
    return Summary(file, source, rows, sum(f.severity == "error" for f in findings),
                   sum(f.severity == "warning" for f in findings), seconds, sum(f.severity == "hold" for f in findings))


_ORDER = {"error": 0, "hold": 1, "warning": 2}


def _by_rule(findings: list[Finding]) -> OrderedDict[str, list[Finding]]:
    groups: OrderedDict[str, list[Finding]] = OrderedDict()
    for f in sorted(findings, key=lambda f: (_ORDER.get(f.severity, 3), f.rule)):
        groups.setdefault(f.rule, []).append(f)
    return groups


def as_text(summary: Summary, findings: list[Finding]) -> str:
    lines = [
        f"File:     {summary.file}",
        f"Source:   {summary.source}",
        f"Rows:     {summary.rows:,}" + (f"  (checked in {summary.seconds:.2f} s)" if summary.seconds is not None else ""),
        f"Errors:   {summary.errors:,}",
        f"Warnings: {summary.warnings:,}",
        *([f"Held:     {summary.holds:,} (what loading it would remove, below)"] if summary.holds else []),
        f"Verdict:  {summary.verdict}",
    ]
    for rule, group in _by_rule(findings).items():
        first = group[0]
        lines += ["", f"[{first.severity.upper()}] {rule}: {first.message} ({len(group):,} row{'s' if len(group) != 1 else ''})",
                  f"  How to fix: {first.fix}"]
        for f in group[:ROWS_SHOWN_PER_RULE]:
            where = f"row {f.row}" if f.row is not None else "file"
            what = f"column {f.column}: {f.value if f.value is not None else '(blank)'}" if f.column else \
                (f.value if f.value is not None else f.message)
            lines.append(f"  {where:>10}  {what}" + (f"  ({f.detail})" if f.detail else ""))
        if len(group) > ROWS_SHOWN_PER_RULE:
            lines.append(f"  ... and {len(group) - ROWS_SHOWN_PER_RULE:,} more (see the JSON or HTML report)")
    return "\n".join(lines) + "\n"


def as_json(summary: Summary, findings: list[Finding]) -> str:
    return json.dumps({
        "file": summary.file, "source": summary.source, "rows": summary.rows, "errors": summary.errors,
        "warnings": summary.warnings, "holds": summary.holds, "verdict": summary.verdict, "seconds": summary.seconds,
        "findings": [f.as_dict() for f in findings],
    }, indent=2, default=str)


def quarantine_reports(file: str, source: str, rows: int, findings: list[Finding]) -> dict[str, str]:
    """The reports a quarantined upload gets beside it: text, JSON and HTML."""
    summary = summarise(file, source, rows, findings)
    return {"report.txt": as_text(summary, findings), "report.json": as_json(summary, findings),
            "report.html": as_html(summary, findings)}


def as_html(summary: Summary, findings: list[Finding]) -> str:
    e = html.escape
    colour = {"INVALID": "#b00020", "HELD FOR CONFIRMATION": "#8a5a00", "VALID WITH WARNINGS": "#8a5a00",
              "VALID": "#1b6e20"}[summary.verdict]
    parts = [f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Validation report: {e(summary.file)}</title>
<style>
body{{font-family:system-ui,Segoe UI,Arial,sans-serif;margin:2rem;max-width:70rem;color:#222}}
h1{{font-size:1.4rem}} .verdict{{color:#fff;background:{colour};padding:.2rem .6rem;border-radius:.3rem}}
table{{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}} th,td{{border:1px solid #ccc;padding:.3rem .5rem;text-align:left}}
th{{background:#f2f2f2}} .error{{color:#b00020}} .warning{{color:#8a5a00}} .fix{{margin:.2rem 0}}
</style></head><body>
<h1>{e(summary.file)} <span class="verdict">{e(summary.verdict)}</span></h1>
<table><tr><th>Source</th><td>{e(summary.source)}</td></tr><tr><th>Rows read</th><td>{summary.rows:,}</td></tr>
<tr><th>Errors</th><td>{summary.errors:,}</td></tr><tr><th>Warnings</th><td>{summary.warnings:,}</td></tr></table>"""]
    for rule, group in _by_rule(findings).items():
        first = group[0]
        parts.append(f'<h2 class="{first.severity}">{e(first.severity.title())}: {e(first.message)} '
                     f'({len(group):,} rows)</h2><p class="fix"><b>How to fix:</b> {e(first.fix)} '
                     f'<small>(rule <code>{e(rule)}</code>)</small></p>')
        parts.append("<table><tr><th>Row</th><th>Column</th><th>Value</th><th>Detail</th></tr>")
        for f in group[:500]:
            parts.append(f"<tr><td>{f.row if f.row is not None else 'file'}</td><td>{e(str(f.column or ''))}</td>"
                         f"<td>{e(str(f.value)) if f.value is not None else '<i>blank</i>'}</td>"
                         f"<td>{e(f.detail or '')}</td></tr>")
        if len(group) > 500:
            parts.append(f"<tr><td colspan=4>... and {len(group) - 500:,} more (see the JSON report)</td></tr>")
        parts.append("</table>")
    if not findings:
        parts.append("<p>No problems found.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
