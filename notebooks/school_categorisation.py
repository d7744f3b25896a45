import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import altair as alt
    import marimo as mo
    import polars as pl
    from pathways_notebook import community_picker, open_publication, period_expr, save_chart

    params, pub = open_publication(mo.cli_args())
    picker, message = community_picker(mo, pub, params.learning_community)
    mo.vstack([mo.md("# School categorisation review"), picker, message or mo.md(""), mo.md(pub.caption)])
    return alt, mo, period_expr, picker, pl, pub, save_chart


@app.cell
def _(mo, picker, pub):
    lc = picker.value
    con = pub.con
    mo.md(f"## {pub.communities[lc]} ({lc})\nGreen / amber / red per school per year from the configured rules "
          "(attainment against national, local progress, disadvantaged gaps, trend, attendance), with the reasons.")
    return con, lc


@app.cell
def _(alt, con, lc, period_expr, save_chart):
    cats = con.execute("""
        SELECT school_name, phase, time_period, category, reasons FROM school_categories
        WHERE learning_community_code = ? ORDER BY phase, school_name, time_period""", [lc]).pl()
    cats = cats.with_columns(year=period_expr())
    grid = alt.Chart(cats.to_pandas()).mark_rect(stroke="white").encode(
        x=alt.X("year:O", title="Academic year"), y=alt.Y("school_name:N", title=None, sort=alt.SortField("phase")),
        color=alt.Color("category:N", scale=alt.Scale(domain=["green", "amber", "red"], range=["#2e7d32", "#f9a825", "#c62828"]),
                        title="Category"),
        tooltip=["school_name", "year", "category", "reasons"],
    ).properties(width=420, title=f"School categories, {lc}")
    save_chart(grid, "school_categorisation")
    grid
    return (cats,)


@app.cell
def _(cats, mo, pl):
    moved = (cats.sort("school_name", "time_period")
             .with_columns(previous=pl.col("category").shift(1).over("school_name"))
             .drop_nulls("previous")
             .group_by("previous", "category").len().sort("previous", "category")
             .rename({"previous": "last year", "category": "this year", "len": "schools"}))
    latest = cats.filter(pl.col("time_period") == cats["time_period"].max()).select("school_name", "category", "reasons")
    mo.vstack([mo.md("## How categories moved year on year"), mo.ui.table(moved.to_pandas()),
               mo.md("## Latest year, with the reasons"), mo.ui.table(latest.to_pandas())])
    return


if __name__ == "__main__":
    app.run()
