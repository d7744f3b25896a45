"""Small-number suppression for published aggregates: primary, then secondary (complementary).

Primary: a cell is withheld when its denominator is at or below ``threshold`` pupils, or
(for percentage measures) when the count of pupils meeting - or not meeting - the measure is
between 1 and ``min_count - 1``: a published 1 or 2 can identify a child.

Secondary: a withheld cell must not be recoverable by subtraction. Two additive relations
hold in the outcomes table: a breakdown's subgroups add up to its 'Total' row, and the
learning communities add up to their local authority (each authority on its own, where one
warehouse holds several). Whenever exactly one cell of such a group is withheld, the next
smallest cell of that group is withheld too (ties broken by the cells' contents, never by row
order, so the same data always withhold the same cells); this repeats until nothing changes.
Each relation is protected on its own: docs/methodology.md#suppression-of-derived-tables lists
the known limits.
"""

from __future__ import annotations

import polars as pl

from config.labels import DISADVANTAGE_BREAKDOWN, DISADVANTAGED, NOT_DISADVANTAGED, TOTAL

GEO = ["time_period", "measure", "geographic_level", "old_la_code", "learning_community_code"]
TRANSITION_COUNTS = ("pupils_tracked", "below_expected_before", "caught_up", "at_expected_before", "fell_behind",
                     "stayed_in_community")


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
    # rows are numbered in the order of their contents, never the order they arrived in, so a tie
    # between two equally small complements is always broken the same way (two publications of the
    # same data withhold the same cells; together they give nothing away)
    f = (frame.with_columns(suppressed=first, _arrived=pl.int_range(pl.len()))
         .sort([c for c in frame.columns if frame.schema[c].is_numeric() or frame.schema[c] == pl.String], nulls_last=True,
               maintain_order=True)
         .with_columns(_row=pl.int_range(pl.len())))
    # relation 1: subgroups of a breakdown (with the breakdown's Total row) within one geography
    by_breakdown = ["time_period", "measure", "geographic_level", "old_la_code", "learning_community_code"]
    totals = (f.filter(pl.col("breakdown") == TOTAL).select(*by_breakdown, pl.col("_row").alias("_total_row")))
    members = f.filter(pl.col("breakdown") != TOTAL).join(totals, on=by_breakdown, how="left", nulls_equal=True)
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
    return (f.with_columns(suppressed=pl.col("_row").is_in(pl.Series(sorted(suppressed), dtype=f["_row"].dtype).implode()))
            .sort("_arrived").drop("_row", "_arrived"))


def withheld_cells(marts: dict[str, pl.DataFrame], threshold: int, min_count: int, rolling_years: int
                   ) -> dict[str, dict[str, pl.Series]]:
    """For each published mart, the suppression flags its figure columns are withheld with
    (``cell``: the row's own figures; ``rolling``: the rolling pools), one boolean per row."""
    flags: dict[str, dict[str, pl.Series]] = {}

    outcomes = suppress(marts["learning_community_outcomes"], threshold, min_count)
    flags["learning_community_outcomes"] = {"cell": outcomes["suppressed"]}
    hidden = (outcomes.filter((pl.col("breakdown") == DISADVANTAGE_BREAKDOWN) & pl.col("suppressed"))
              .select(GEO).unique().with_columns(suppressed=pl.lit(True)))

    gaps = marts["learning_community_disadvantage_gaps"].with_row_index("_row")
    gaps = gaps.join(hidden, on=GEO, how="left", nulls_equal=True).with_columns(pl.col("suppressed").fill_null(False))
    rolling_hidden = _rolling_suppression(gaps, outcomes, threshold, min_count, rolling_years)
    gaps = (gaps.join(rolling_hidden, on=GEO, how="left", nulls_equal=True)
            .with_columns(pl.col("rolling_suppressed").fill_null(False)).sort("_row"))
    flags["learning_community_disadvantage_gaps"] = {"cell": gaps["suppressed"], "rolling": gaps["rolling_suppressed"]}

    index = marts["learning_community_gap_index"]
    flags["learning_community_gap_index"] = {"cell": index.select(
        (pl.col("disadvantaged_pupils") <= threshold) | (pl.col("other_pupils") <= threshold)).to_series()}

    # a trend's slope and change rest on every year of its window (two groups each): withhold it if
    # any of those cells is withheld, or the withheld year could be solved for from the published slope
    trends = marts["learning_community_gap_trends"]
    keys = ["measure", "geographic_level", "old_la_code", "learning_community_code"]
    years = hidden.select("time_period", *keys)
    in_window = (trends.with_row_index("_row").select("_row", "first_time_period", "last_time_period", *keys)
                 .join(years, on=keys, how="inner", nulls_equal=True)
                 .filter(pl.col("time_period").is_between(pl.col("first_time_period"), pl.col("last_time_period")))
                 .select("_row").unique())
    flags["learning_community_gap_trends"] = {"cell": pl.int_range(trends.height, eager=True).is_in(
        in_window["_row"].cast(pl.Int64).implode()).alias("suppressed")}

    stages = marts["learning_community_cohort_stages"]
    shaped = stages.with_columns(
        pl.col("reception_cohort").alias("time_period"), pl.col("stage").alias("measure"), measure_type=pl.lit("percentage"),
        breakdown=pl.when(pl.col("subgroup") == TOTAL).then(pl.lit(TOTAL)).otherwise(pl.lit(DISADVANTAGE_BREAKDOWN)))
    flags["learning_community_cohort_stages"] = {"cell": suppress(shaped, threshold, min_count)["suppressed"]}

    moves = marts["learning_community_cohort_transitions"]
    shaped = moves.with_columns(
        pl.col("reception_cohort").alias("time_period"),
        (pl.col("from_stage") + ">" + pl.col("to_stage")).alias("measure"), measure_type=pl.lit("count"),
        numerator=pl.col("pupils_tracked").cast(pl.Float64), denominator=pl.col("pupils_tracked").cast(pl.Float64),
        breakdown=pl.when(pl.col("subgroup") == TOTAL).then(pl.lit(TOTAL)).otherwise(pl.lit(DISADVANTAGE_BREAKDOWN)))
    few = pl.any_horizontal([(pl.col(c) >= 1) & (pl.col(c) < min_count) for c in TRANSITION_COUNTS[1:]]
                            + [((pl.col("below_expected_before") - pl.col("caught_up")).is_between(1, min_count - 1)),
                               ((pl.col("at_expected_before") - pl.col("fell_behind")).is_between(1, min_count - 1)),
                               # "tracked 207, stayed 206" says one pupil left
                               ((pl.col("pupils_tracked") - pl.col("stayed_in_community")).is_between(1, min_count - 1))])
    flags["learning_community_cohort_transitions"] = {
        "cell": suppress(shaped, threshold, min_count, forced=moves.select(few).to_series())["suppressed"]}

    if "learning_community_data_quality" in marts:
        flags["learning_community_data_quality"] = {
            "cell": data_quality_cells(marts["learning_community_data_quality"], threshold, min_count)}
    return flags


def data_quality_cells(quality: pl.DataFrame, threshold: int, min_count: int) -> pl.Series:
    """Data-quality counts (#14): each count of pupils beside its cohort's size, withheld as a percentage
    cell would be (a count or its complement of 1 or 2, or a cohort of ``threshold`` or fewer), then
    communities against their authority. A count of 0 in a large cohort identifies nobody and is shown."""
    shaped = quality.with_columns(
        (pl.col("cohort") + ":" + pl.col("check_code")).alias("measure"), measure_type=pl.lit("percentage"),
        numerator=pl.col("pupils").cast(pl.Float64), denominator=pl.col("cohort_pupils").cast(pl.Float64),
        breakdown=pl.lit(TOTAL), subgroup=pl.lit(TOTAL)).with_columns(pupils=pl.col("cohort_pupils"))
    return suppress(shaped, threshold, min_count)["suppressed"]


def _rolling_suppression(gaps: pl.DataFrame, outcomes: pl.DataFrame, threshold: int, min_count: int,
                         rolling_years: int) -> pl.DataFrame:
    """Which rolling figures to withhold.

    A rolling figure pools up to ``rolling_years`` years. If some but not all of those years are
    withheld, publishing the pool would let the withheld year be recovered by subtraction, so it
    is withheld too ("all or none"); then the usual primary and complementary rules apply to the
    pools themselves (learning communities add up to the authority).
    """
    groups = {"disadvantaged": DISADVANTAGED, "other": NOT_DISADVANTAGED}
    year_flags = (outcomes.filter(pl.col("breakdown") == DISADVANTAGE_BREAKDOWN)
                  .select(*GEO, "subgroup", "suppressed").sort("time_period"))
    window = ["measure", "geographic_level", "old_la_code", "learning_community_code", "subgroup"]
    part = year_flags.with_columns(
        n_hidden=pl.col("suppressed").cast(pl.Int32).rolling_sum(rolling_years, min_samples=1).over(window),
        n_years=pl.col("time_period").is_not_null().cast(pl.Int32).rolling_sum(rolling_years, min_samples=1).over(window),
    ).with_columns(partial=(pl.col("n_hidden") > 0) & (pl.col("n_hidden") < pl.col("n_years"))).select(*GEO, "subgroup", "partial")
    frames = []
    for prefix, subgroup in groups.items():
        frames.append(gaps.select(
            *GEO, "measure_type", pl.lit(DISADVANTAGE_BREAKDOWN).alias("breakdown"), pl.lit(subgroup).alias("subgroup"),
            pl.col(f"rolling_{prefix}_numerator").alias("numerator"),
            pl.col(f"rolling_{prefix}_denominator").alias("denominator"),
            pl.col(f"rolling_{prefix}_pupils").alias("pupils")))
    pools = pl.concat(frames).join(part, on=[*GEO, "subgroup"], how="left", nulls_equal=True)
    pools = pools.with_columns(pl.col("partial").fill_null(False))
    flagged = suppress(pools.drop("partial"), threshold, min_count, forced=pools["partial"])
    return (flagged.group_by(GEO).agg(rolling_suppressed=pl.col("suppressed").any()))
