import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import altair as alt
    import marimo as mo
    import polars as pl
    from pathways_notebook import community_or_borough, community_picker, numeric, open_publication, period_expr, save_chart

    params, pub = open_publication(mo.cli_args())
    picker, message = community_picker(mo, pub, params.learning_community)
    mo.vstack([mo.md("# Attendance"), picker, message or mo.md(""), mo.md(pub.caption)])
    return alt, community_or_borough, mo, numeric, period_expr, picker, pl, pub, save_chart


@app.cell
def _(mo, picker, pub):
    lc = picker.value
    con = pub.con
    mo.md(f"## {pub.communities[lc]} ({lc})\nOverall absence (sessions missed over possible sessions) and persistent "
          "absence (enrolments missing 10% or more), pupils of compulsory school age. Withheld figures are left out.")
    return con, lc


@app.cell
def _(alt, community_or_borough, con, lc, numeric, period_expr, pl, save_chart):
    where, args = community_or_borough(lc, "o")
    att = numeric(con.execute(f"""
        SELECT o.time_period, o.measure, m.measure_label, o.breakdown, o.subgroup,
               coalesce(o.learning_community_code, 'Borough') AS area, o.value, o.pupils
        FROM learning_community_outcomes o JOIN measures m USING (measure)
        WHERE o.measure IN ('overall_absence_rate', 'persistent_absence')
          AND o.breakdown IN ('Total', 'Disadvantage', 'SEN provision', 'Gypsy, Roma and Traveller')
          AND {where}""", args).pl(), "value")
    att = att.with_columns(year=period_expr(), area=pl.col("area").replace({lc: "This community"}))
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
def _(con, mo, numeric, period_expr):
    by_lc = numeric(con.sql("""
        SELECT learning_community_code, time_period, value AS persistent_absence
        FROM learning_community_outcomes
        WHERE measure = 'persistent_absence' AND breakdown = 'Total' AND geographic_level = 'Learning community'
          AND time_period = (SELECT max(time_period) FROM learning_community_outcomes WHERE measure = 'persistent_absence')
        ORDER BY 1""").pl(), "persistent_absence").with_columns(year=period_expr()).drop("time_period")
    mo.vstack([mo.md("## Persistent absence by community, latest year"), mo.ui.table(by_lc.to_pandas())])
    return


if __name__ == "__main__":
    app.run()
