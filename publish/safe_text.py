"""Published text that a spreadsheet never executes (docs/methodology.md#published-text).

A cell whose text begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which
some spreadsheets skip before looking for one of those) is read as a formula when a CSV is
opened in Excel or LibreOffice: a school name such as ``=HYPERLINK("http://...")`` would run
on the reader's machine. Such text is published with a leading apostrophe, the neutralisation
OWASP recommends ("CSV injection"), so it shows as typed and never runs. The workbooks also
write every string as a string (xlsxwriter ``strings_to_formulas`` off), so they hold no formula
whatever the text; the upload's name fields are checked at validation (expectations/suites.py,
rule ``name_formula_like``).
"""

from __future__ import annotations

import re

import polars as pl

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMULA_START_PATTERN = r"^[=+\-@\t\r]"
NUMBER_PATTERN = r"^[+-]?[0-9]+(\.[0-9]+)?$"  # a signed number is data, not a formula


def neutralise(text: str | None) -> str | None:
    """``text`` as it is safe to publish: prefixed with an apostrophe where it would start a formula."""
    if text and text.startswith(FORMULA_START) and not re.match(NUMBER_PATTERN, text):
        return "'" + text
    return text


def neutralise_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text column of ``frame`` with formula-like values neutralised."""
    def safe(c: str) -> pl.Expr:
        risky = pl.col(c).str.contains(FORMULA_START_PATTERN) & ~pl.col(c).str.contains(NUMBER_PATTERN)
        return pl.when(risky).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)

    return frame.with_columns(safe(c) for c, t in frame.schema.items() if t == pl.String)
