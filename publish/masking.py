"""Turn a mart into what is published: the contract's columns only, each figure withheld where
its suppression flag says, figures as text with the EES symbols (``c`` withheld, ``z`` not
applicable), rounded as the contract says."""

from __future__ import annotations

import polars as pl

from publish.contract import PublishedTable, check_flags

SUPPRESSED = "c"
NOT_APPLICABLE = "z"


def mask(table: PublishedTable, frame: pl.DataFrame, flags: dict[str, pl.Series]) -> pl.DataFrame:
    """The published form of one mart (``flags``: this table's suppression flags, one per row)."""
    check_flags(table, set(flags))
    out = []
    for name in table.published_columns:
        spec = table.columns[name]
        if spec.disclosure != "figure":
            out.append(pl.col(name))
            continue
        text = _as_text(frame, name, spec.decimals)
        if spec.withheld_with == "never":
            out.append(text.alias(name))
        else:
            out.append(pl.when(pl.lit(flags[spec.withheld_with])).then(pl.lit(SUPPRESSED)).otherwise(text).alias(name))
    published = frame.select(out)
    if "cell" in flags:  # which rows were withheld, for readers filtering them out
        published = published.with_columns(suppressed=flags["cell"])
    return published


def _as_text(frame: pl.DataFrame, col: str, decimals: int | None) -> pl.Expr:
    """Figures as text: to ``decimals`` places where the contract says; other decimals to 2 places
    (whole numbers without a point); counts as whole numbers; ``z`` where not applicable (null)."""
    c = pl.col(col)
    dtype = frame.schema[col]
    if dtype == pl.String:
        text = c
    elif decimals is not None:
        text = c.cast(pl.Float64).round(decimals).cast(pl.String)
    elif dtype.is_float():
        text = pl.when(c == c.round(0)).then(c.cast(pl.Int64).cast(pl.String)).otherwise(c.round(2).cast(pl.String))
    else:
        text = c.cast(pl.String)
    return pl.when(c.is_null()).then(pl.lit(NOT_APPLICABLE)).otherwise(text)
