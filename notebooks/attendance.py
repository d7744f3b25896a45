import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import altair as alt
    import marimo as mo
    import polars as pl
    from pathways_notebook import numeric, open_publication, save_chart

    params, con, lc = open_publication(mo.cli_args())
    mo.md(f"# Attendance: {lc}\nOverall absence (sessions missed over possible sessions) and persistent absence "
          "(enrolments missing 10% or more), pupils of compulsory school age. Withheld figures are left out.")
    return alt, con, lc, mo, numeric, pl, save_chart


@app.cell
def _(alt, con, lc, numeric, pl, save_chart):
    att = numeric(con.execute("""
        SELECT o.time_period, o.measure, m.measure_label, o.breakdown, o.subgroup,
               coalesce(o.learning_community_code, 'Borough') AS area, o.value, o.pupils
        FROM learning_community_outcomes o JOIN measures m USING (measure)
        WHERE o.measure IN ('overall_absence_rate', 'persistent_absence')
          AND o.breakdown IN ('Total', 'Disadvantage', 'SEN provision', 'Gypsy, Roma and Traveller')
          AND (o.learning_community_code = ?
               OR (o.geographic_level = 'Local authority' AND o.old_la_code =
                (SELECT old_la_code FROM dim_learning_communities WHERE learning_community_code = ?)))""", [lc, lc]).pl(), "value")
    att = att.with_columns(year=(pl.col("time_period") // 100).cast(pl.String) + "/"
                           + (pl.col("time_period") % 100).cast(pl.String).str.zfill(2),
                           area=pl.col("area").replace({lc: "This community"}))
    trend = alt.Chart(att.drop_nulls("value").to_pandas()).mark_line(point=True).encode(
        x=alt.X("year:O", title="Academic year"), y=alt.Y("value:Q", title="%"),
        color=alt.Color("subgroup:N", title="Subgroup"), strokeDash=alt.StrokeDash("area:N", title=None),
        tooltip=["measure_label", "area", "subgroup", "year", "value", "pupils"],
    ).properties(width=300, height=200).facet(row=alt.Row("measure_label:N", title=None),
                                              column=alt.Column("breakdown:N", title=None))
    save_chart(trend, "attendance")
    trend
    return (att,)


@app.cell
def _(con, mo, numeric):
    by_lc = numeric(con.sql("""
        SELECT learning_community_code, time_period, value AS persistent_absence
        FROM learning_community_outcomes
        WHERE measure = 'persistent_absence' AND breakdown = 'Total' AND geographic_level = 'Learning community'
          AND time_period = (SELECT max(time_period) FROM learning_community_outcomes WHERE measure = 'persistent_absence')
        ORDER BY 1""").pl(), "persistent_absence")
    mo.vstack([mo.md("## Persistent absence by community, latest year"), mo.ui.table(by_lc.to_pandas())])
    return


if __name__ == "__main__":
    app.run()
