"""Turn a mart into what is published: the contract's columns only, each figure withheld where
its suppression flag says, rounded as the contract says, and typed (docs/methodology.md#published-figures).

Figures stay numbers (BIGINT counts, DOUBLE rates, text for the few verdict columns), so analysts
can sort, sum and chart them without casts. A figure that cannot be shown is NULL, and its reason
is in a companion column ``<figure>_status`` holding the EES symbol: ``c`` withheld to protect
confidentiality, ``z`` not applicable (no pupils in the group, or no result that year). The
companion is NULL wherever the figure is shown. ``as_symbols()`` turns a published frame back
into the EES text form (a symbol where a figure is absent), as the open-data files carry it.
"""

from __future__ import annotations

import polars as pl

from publish.contract import MEASURE_DECIMALS, ContractError, PublishedTable, check_flags

SUPPRESSED = "c"
NOT_APPLICABLE = "z"
NOT_AVAILABLE = "x"
STATUS_SUFFIX = "_status"


def status_column(figure: str) -> str:
    """The companion column holding why ``figure`` is NULL (an EES symbol), NULL where it is shown."""
    return figure + STATUS_SUFFIX


def mask(table: PublishedTable, frame: pl.DataFrame, flags: dict[str, pl.Series],
         measure_decimals: dict[str, int] | None = None) -> pl.DataFrame:
    """The published form of one mart (``flags``: this table's suppression flags, one per row;
    ``measure_decimals``: each measure's decimal places, from the measures seed, for figures the
    contract rounds to their measure's places)."""
    check_flags(table, set(flags))
    if any(c.decimals == MEASURE_DECIMALS for c in table.columns.values()):
        frame = _with_measure_decimals(table, frame, measure_decimals or {})
    out = []
    for name in table.published_columns:
        spec = table.columns[name]
        if spec.disclosure != "figure":
            out.append(pl.col(name))
            continue
        value = _rounded(frame, name, spec.decimals)
        withheld = (pl.lit(False) if spec.withheld_with == "never"
                    else pl.lit(flags[spec.withheld_with]).fill_null(False))
        out.append(pl.when(withheld).then(None).otherwise(value).alias(name))
        out.append(pl.when(withheld).then(pl.lit(SUPPRESSED)).when(pl.col(name).is_null())
                   .then(pl.lit(NOT_APPLICABLE)).otherwise(pl.lit(None, pl.String)).alias(status_column(name)))
    published = frame.select(out)
    if "cell" in flags:  # which rows were withheld, for readers filtering them out
        published = published.with_columns(suppressed=flags["cell"])
    return published


_PLACES = "__measure_decimals"


def _with_measure_decimals(table: PublishedTable, frame: pl.DataFrame, places: dict[str, int]) -> pl.DataFrame:
    """The frame with each row's measure's decimal places beside it; every measure must have them."""
    unknown = sorted(set(frame["measure"].drop_nulls().unique().to_list()) - set(places))
    if unknown:
        raise ContractError(f"{table.name}: measure(s) {', '.join(unknown)} have no decimal places in the "
                            f"measures seed (dbt_project/seeds/measures.csv), so their figures cannot be rounded")
    return frame.with_columns(pl.col("measure").replace_strict(places, default=None, return_dtype=pl.Int64).alias(_PLACES))


def _rounded(frame: pl.DataFrame, col: str, decimals: int | str | None) -> pl.Expr:
    """A figure as published: to ``decimals`` places where the contract says (the row's measure's
    places where it says ``measure``); other decimals to 2 places; counts and text as they are."""
    c = pl.col(col)
    dtype = frame.schema[col]
    if dtype == pl.String or dtype == pl.Boolean or dtype.is_integer():
        return c
    if decimals == MEASURE_DECIMALS:
        places = sorted(frame[_PLACES].drop_nulls().unique().to_list())
        expr = pl.lit(None, pl.Float64)
        for d in places:
            expr = pl.when(pl.col(_PLACES) == d).then(c.cast(pl.Float64).round(d)).otherwise(expr)
        return expr
    if decimals is not None:
        return c.cast(pl.Float64).round(decimals)
    if dtype.is_float() or dtype.is_decimal():
        return c.cast(pl.Float64).round(2)
    return c


def figure_columns(frame: pl.DataFrame) -> list[str]:
    """The figure columns of a published frame: those with a status companion."""
    return [c for c in frame.columns if status_column(c) in frame.columns]


def as_symbols(frame: pl.DataFrame) -> pl.DataFrame:
    """A published frame in the EES text form: each figure as text, its symbol where it is absent
    (``x`` where neither a figure nor a reason is held), the companions dropped."""
    figures = figure_columns(frame)
    return frame.with_columns(
        pl.coalesce(pl.col(status_column(c)), _text(frame, c), pl.lit(NOT_AVAILABLE)).alias(c) for c in figures
    ).drop([status_column(c) for c in figures])


def _text(frame: pl.DataFrame, col: str) -> pl.Expr:
    """A number as text: whole numbers without a point."""
    c = pl.col(col)
    dtype = frame.schema[col]
    if dtype.is_float():
        return pl.when(c == c.round(0)).then(c.cast(pl.Int64).cast(pl.String)).otherwise(c.cast(pl.String))
    return c.cast(pl.String)
