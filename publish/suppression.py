"""Small-number suppression for published aggregates: primary, then secondary (complementary).

Primary: a cell is withheld when its denominator is at or below ``threshold`` pupils, or
(for percentage measures) when the count of pupils meeting - or not meeting - the measure is
between 1 and ``min_count - 1``: a published 1 or 2 can identify a child.

Secondary: a withheld cell must not be recoverable by subtraction. Two additive relations
hold in the outcomes table: a breakdown's subgroups add up to its 'Total' row, and the
learning communities add up to their local authority (each authority on its own, where one
warehouse holds several). Whenever exactly one cell of such a group is withheld, the next smallest cell of that group is withheld too; this repeats until
nothing changes.
"""

from __future__ import annotations

import polars as pl



def primary(frame: pl.DataFrame, threshold: int, min_count: int) -> pl.Series:
    """Cells withheld in their own right: few pupils behind them, or a count of 1 or 2 (or its complement)."""
    n, d = pl.col("numerator"), pl.col("denominator")
    pupils = pl.col("pupils") if "pupils" in frame.columns else d
    small = pupils <= threshold
    pct = pl.col("measure_type") == "percentage"
    few = pct & (((n >= 1) & (n < min_count)) | (((d - n) >= 1) & ((d - n) < min_count)))
    return frame.select((small | few).alias("suppressed")).to_series()


def suppress(frame: pl.DataFrame, threshold: int, min_count: int, forced: pl.Series | None = None) -> pl.DataFrame:
    """Add a boolean ``suppressed`` column (primary and secondary) to an outcomes-shaped frame.

    ``forced`` marks further cells to withhold from the start (for example a rolling figure
    whose years are only partly withheld); complementary suppression then protects them too.
    """
    first = primary(frame, threshold, min_count)
    if forced is not None:
        first = first | forced
    f = frame.with_columns(suppressed=first, _row=pl.int_range(pl.len()))
    # relation 1: subgroups of a breakdown (with the breakdown's Total row) within one geography
    by_breakdown = ["time_period", "measure", "geographic_level", "old_la_code", "learning_community_code"]
    totals = (f.filter(pl.col("breakdown") == "Total").select(*by_breakdown, pl.col("_row").alias("_total_row")))
    members = f.filter(pl.col("breakdown") != "Total").join(totals, on=by_breakdown, how="left", nulls_equal=True)
    group_a = pl.concat([
        members.select("_row", pl.struct(*by_breakdown, "breakdown").hash().alias("_group")),
        members.filter(pl.col("_total_row").is_not_null()).select(
            pl.col("_total_row").alias("_row"), pl.struct(*by_breakdown, "breakdown").hash().alias("_group")).unique(),
    ])
    # relation 2: an authority's learning communities (with its local authority row) for one subgroup
    by_subgroup = ["time_period", "measure", "old_la_code", "breakdown", "subgroup"]
    group_b = f.select("_row", pl.struct(*by_subgroup).hash().alias("_group"))
    groups = pl.concat([group_a.with_columns(_rel=pl.lit(1)), group_b.with_columns(_rel=pl.lit(2))])
    groups = groups.join(f.select("_row", "denominator"), on="_row")

    suppressed = set(f.filter(pl.col("suppressed"))["_row"].to_list())
    for _ in range(50):
        s = pl.Series("_row", sorted(suppressed), dtype=f["_row"].dtype)
        g = groups.with_columns(_s=pl.col("_row").is_in(s.implode()))
        lone = g.group_by("_rel", "_group").agg(pl.col("_s").sum().alias("n_s"), pl.len().alias("n")).filter(
            (pl.col("n_s") == 1) & (pl.col("n") > 1))
        if lone.height == 0:
            break
        extra = (g.join(lone, on=["_rel", "_group"]).filter(~pl.col("_s"))
                 .sort("denominator", "_row").group_by("_rel", "_group", maintain_order=True).first())
        suppressed |= set(extra["_row"].to_list())
    return f.with_columns(suppressed=pl.col("_row").is_in(pl.Series(sorted(suppressed), dtype=f["_row"].dtype).implode())).drop("_row")
