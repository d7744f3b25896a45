"""One warehouse holding several authorities (a regional deployment, or the England benchmark):
each authority's figures are computed, ranked, suppressed and published apart."""

import duckdb
import polars as pl

from synthetic import BoroughSpec
from synthetic.england import generate_authorities


def test_several_authorities_are_published_apart(settings):
    from pathways.cli import run_refresh

    spec = BoroughSpec(first_year=2023, last_year=2024, pupils_on_roll=1_500, n_learning_communities=2,
                       primary_schools_per_learning_community=3, n_special_schools=1)
    generate_authorities(2, spec, settings.inbox_dir)
    assert run_refresh(settings)

    with duckdb.connect(str(settings.current_publication), read_only=True) as con:
        roll = con.sql("""
            SELECT geographic_level, old_la_code, la_name, learning_community_code, cast(numerator AS INTEGER) AS pupils
            FROM learning_community_outcomes
            WHERE measure = 'pupils_on_roll' AND breakdown = 'Total' AND time_period = 202425""").pl()
        communities = con.sql("SELECT learning_community_code, old_la_code FROM dim_learning_communities").pl()
        index_rows = con.sql("""SELECT old_la_code, count(*) AS n FROM learning_community_gap_index
                                WHERE geographic_level = 'Local authority' GROUP BY 1 ORDER BY 1""").pl()

    authorities = roll.filter(pl.col("geographic_level") == "Local authority").sort("old_la_code")
    assert authorities["old_la_code"].to_list() == ["300", "301"]
    assert authorities["la_name"].to_list() == ["Local authority 300", "Local authority 301"]
    # each authority's row adds up its own communities' pupils (every pupil's school has one), not all
    by_authority = (roll.filter(pl.col("geographic_level") == "Learning community")
                    .group_by("old_la_code").agg(pl.col("pupils").sum()).sort("old_la_code"))
    assert by_authority["pupils"].to_list() == authorities["pupils"].to_list()
    assert set(communities.select(pl.col("learning_community_code").str.slice(0, 3) == pl.col("old_la_code"))
               .to_series()) == {True}
    # pupils are ranked within their own authority: each has its own authority-level gap index
    assert index_rows["old_la_code"].to_list() == ["300", "301"]
    assert index_rows["n"][0] == index_rows["n"][1] > 0

    # a community's extract holds its own authority's benchmark, not the other authority's
    extract = settings.current_publication.parent / "by_learning_community" / "300-LC01.duckdb"
    with duckdb.connect(str(extract), read_only=True) as con:
        seen = con.sql("SELECT DISTINCT geographic_level, old_la_code, learning_community_code "
                       "FROM learning_community_outcomes ORDER BY 1").fetchall()
    assert seen == [("Learning community", "300", "300-LC01"), ("Local authority", "300", None)]
