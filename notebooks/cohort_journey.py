import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import altair as alt
    import marimo as mo
    import polars as pl
    from pathways_notebook import community_or_borough, community_picker, numeric, open_publication, period, save_chart

    params, pub = open_publication(mo.cli_args())
    picker, message = community_picker(mo, pub, params.learning_community)
    # the cohort followed furthest: the one with the most stages published (ties: the latest)
    cohorts = pub.con.execute("""
        SELECT reception_year, count(DISTINCT stage) AS stages FROM learning_community_cohort_stages
        WHERE learning_community_code IS NULL GROUP BY 1 ORDER BY stages DESC, reception_year DESC""").pl()
    cohort = int(params.cohort or cohorts["reception_year"][0])
    mo.vstack([mo.md("# Cohort journey 0-19"), picker, message or mo.md(""), mo.md(pub.caption)])
    return alt, cohort, community_or_borough, mo, numeric, period, picker, pl, pub, save_chart


@app.cell
def _(cohort, mo, period, picker, pub):
    lc = picker.value
    con = pub.con
    mo.md(f"## Pupils who started Reception in {period(cohort * 100 + (cohort + 1) % 100)}, "
          f"{pub.communities[lc]} ({lc})\n"
          "Each stage's headline: EYFS good level of development, phonics in Year 1, KS1 and KS2 reading, "
          "writing and maths, KS4 grade 4+ in English and maths, at 17 in education, employment or training.")
    return con, lc


@app.cell
def _(alt, cohort, community_or_borough, con, lc, numeric, period, pl, save_chart):
    where, args = community_or_borough(lc)
    stages = numeric(con.execute(f"""
        SELECT stage, stage_order, subgroup, coalesce(learning_community_code, 'Borough') AS area, value, denominator
        FROM learning_community_cohort_stages
        WHERE reception_year = ? AND {where}
        ORDER BY stage_order""", [cohort, *args]).pl(), "value", "denominator")
    stages = stages.with_columns(series=pl.col("area").replace({lc: "This community"}) + ": " + pl.col("subgroup"))
    step = alt.Chart(stages.drop_nulls("value").to_pandas()).mark_line(interpolate="step-after", point=True).encode(
        x=alt.X("stage:N", sort=["eyfs", "phonics", "ks1", "ks2", "ks4", "age17"], title="Stage"),
        y=alt.Y("value:Q", title="% at the expected standard", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("series:N", title=None), strokeDash=alt.StrokeDash("area:N", title=None),
        tooltip=["series", "stage", "value", "denominator"],
    ).properties(width=520, height=300, title=f"Cohort {period(cohort * 100 + (cohort + 1) % 100)} stage by stage")
    save_chart(step, "cohort_journey")
    step
    return (stages,)


@app.cell
def _(alt, cohort, con, lc, mo, numeric, pl, save_chart):
    moves = numeric(con.execute("""
        SELECT from_stage, to_stage, subgroup, below_expected_before, caught_up, at_expected_before, fell_behind,
               caught_up_percentage, fell_behind_percentage, stayed_in_community_percentage
        FROM learning_community_cohort_transitions
        WHERE reception_year = ? AND learning_community_code = ?
        -- each stage to the next one this cohort actually had (no KS1 after 2022/23)
        QUALIFY row_number() OVER (PARTITION BY from_stage, subgroup ORDER BY to_stage_order) = 1
        ORDER BY from_stage_order""", [cohort, lc]).pl(),
        "caught_up_percentage", "fell_behind_percentage", "stayed_in_community_percentage")
    long = moves.select("from_stage", "to_stage", "subgroup", "caught_up_percentage", "fell_behind_percentage").unpivot(
        index=["from_stage", "to_stage", "subgroup"], variable_name="movement", value_name="percentage").with_columns(
        step=pl.col("from_stage") + " -> " + pl.col("to_stage"),
        movement=pl.col("movement").replace({"caught_up_percentage": "caught up (of those below)",
                                             "fell_behind_percentage": "fell behind (of those at expected)"}))
    bars = alt.Chart(long.drop_nulls("percentage").to_pandas()).mark_bar().encode(
        x=alt.X("percentage:Q", title="%"), y=alt.Y("subgroup:N", title=None), color=alt.Color("movement:N", title=None),
        row=alt.Row("step:N", title=None), yOffset="movement:N",
        tooltip=["step", "subgroup", "movement", "percentage"]).properties(width=420, height=60)
    shown = long.drop_nulls("percentage").height > 0
    if shown:
        save_chart(bars, "cohort_transitions")
    mo.vstack([mo.md("## Who fell behind and who caught up, stage to stage"),
               bars if shown else mo.md("_Every figure for this cohort is withheld (small numbers) or not yet available._"),
               mo.ui.table(moves.to_pandas())])
    return


if __name__ == "__main__":
    app.run()
