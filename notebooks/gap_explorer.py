import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import altair as alt
    import marimo as mo
    import polars as pl
    from pathways_notebook import community_or_borough, community_picker, newcombe_gap, numeric, open_publication, period_expr, save_chart

    params, pub = open_publication(mo.cli_args())
    picker, message = community_picker(mo, pub, params.learning_community)
    mo.vstack([mo.md("# Disadvantage gap explorer"), picker, message or mo.md(""), mo.md(pub.caption)])
    return alt, community_or_borough, mo, newcombe_gap, numeric, period_expr, picker, pl, pub, save_chart


@app.cell
def _(mo, picker, pub):
    lc = picker.value
    con = pub.con
    lc_name = pub.communities[lc]
    mo.md(f"## {lc_name} ({lc})\nThe gap is other pupils minus disadvantaged pupils, so a positive gap means "
          "disadvantaged pupils are behind. Withheld (small) figures are left out.")
    return con, lc, lc_name


@app.cell
def _(community_or_borough, con, lc, newcombe_gap, numeric, period_expr, pl):
    headline = ["eyfs_good_level_of_development", "phonics_y1_met", "ks1_rwm_expected", "ks2_rwm_expected", "ks4_basics_grade_5"]
    gaps = con.execute("""
        SELECT g.*, m.measure_label, m.stage_order FROM learning_community_disadvantage_gaps g
        JOIN measures m USING (measure)
        WHERE g.measure IN (SELECT unnest(?)) AND {where}
    """.format(where=community_or_borough(lc, "g")[0]), [headline, *community_or_borough(lc, "g")[1]]).pl()
    gaps = numeric(gaps, "gap", "national_gap", "disadvantaged_numerator", "disadvantaged_denominator",
                   "other_numerator", "other_denominator")
    intervals = [newcombe_gap(r["other_numerator"], r["other_denominator"], r["disadvantaged_numerator"],
                              r["disadvantaged_denominator"]) if r["gap"] is not None else (None, None)
                 for r in gaps.iter_rows(named=True)]
    gaps = gaps.with_columns(
        lower=pl.Series([i[0] for i in intervals], dtype=pl.Float64),
        upper=pl.Series([i[1] for i in intervals], dtype=pl.Float64),
        area=pl.when(pl.col("learning_community_code").is_null()).then(pl.lit("Borough")).otherwise(pl.lit("This community")),
        year=period_expr(),
    )
    national = gaps.filter(pl.col("area") == "Borough").select(
        "measure_label", "stage_order", "year", pl.col("national_gap").alias("gap")).drop_nulls("gap").with_columns(
        area=pl.lit("England"), lower=pl.lit(None, pl.Float64), upper=pl.lit(None, pl.Float64))
    plotted = pl.concat([gaps.select("measure_label", "stage_order", "year", "gap", "area", "lower", "upper"), national])
    return gaps, plotted


@app.cell
def _(alt, lc, plotted, save_chart):
    base = alt.Chart(plotted.to_pandas()).encode(
        x=alt.X("year:O", title="Academic year"),
        color=alt.Color("area:N", title=None, scale=alt.Scale(domain=["This community", "Borough", "England"],
                                                              range=["#c0392b", "#2c3e50", "#95a5a6"])))
    lines = base.mark_line(point=True).encode(y=alt.Y("gap:Q", title="Gap (percentage points)"),
                                              tooltip=["measure_label", "year", "area", "gap", "lower", "upper"])
    bands = base.mark_area(opacity=0.15).encode(y="lower:Q", y2="upper:Q")
    gap_chart = (bands + lines).properties(width=260, height=170).facet(
        facet=alt.Facet("measure_label:N", title=None, sort=alt.SortField("stage_order")), columns=2
    ).properties(title=f"Disadvantage gap by stage, {lc}, with 95% intervals (Newcombe)")
    save_chart(gap_chart, "gap_explorer")
    gap_chart
    return (gap_chart,)


@app.cell
def _(community_or_borough, con, lc, mo, numeric, period_expr):
    index = numeric(con.execute(f"""
        SELECT time_period, stage, coalesce(learning_community_code, 'Borough') AS area, gap_index, national_gap_index
        FROM learning_community_gap_index WHERE {community_or_borough(lc)[0]}
        ORDER BY stage, time_period, area""", community_or_borough(lc)[1]).pl(),
        "gap_index").with_columns(year=period_expr()).drop("time_period")
    trends = con.execute("""
        SELECT m.measure_label, t.first_time_period, t.last_time_period, t.gap_change, t.gap_change_per_year,
               t.gap_change_per_year_lower_95, t.gap_change_per_year_upper_95, t.trend, t.compared_with_national
        FROM learning_community_gap_trends t JOIN measures m USING (measure)
        WHERE t.learning_community_code = ? ORDER BY m.stage_order, m.measure""", [lc]).pl().with_columns(
        first_year=period_expr("first_time_period"), last_year=period_expr("last_time_period")).drop(
        "first_time_period", "last_time_period")
    mo.vstack([mo.md("## Gap index (DfE method; pupils ranked within the borough)"), mo.ui.table(index.to_pandas()),
               mo.md("## Is the gap narrowing? (trend per year with its 95% interval)"), mo.ui.table(trends.to_pandas())])
    return index, trends


if __name__ == "__main__":
    app.run()
