"""Every Dagster definition loads, and the graph has the shape the README describes."""

import dagster as dg


def test_all_definitions_load():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for source in ("census", "attendance", "attainment", "pupil_premium", "schools", "learning_communities"):
        assert f"raw/{source}" in keys
    assert {"marts/learning_community_outcomes", "marts/learning_community_disadvantage_gaps", "published/pathways"} <= keys
    # dbt sources are the Python ingest assets: staging depends on raw/<table>
    stg = graph.get(dg.AssetKey(["staging", "stg_census__pupil_terms"]))
    assert dg.AssetKey(["raw", "census"]) in stg.parent_keys
    # dbt tests are asset checks
    assert any(c.asset_key == dg.AssetKey(["marts", "learning_community_outcomes"]) for c in graph.asset_check_keys)
    assert defs.resolve_job_def("refresh") is not None
    assert {s.name for s in defs.schedules} == {"nightly_refresh", "termly_full_refresh"}
    assert {s.name for s in defs.sensors} == {"inbox_sensor"}


def test_every_check_says_what_it_checks_and_how_to_fix_a_failure():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in graph.asset_check_keys:
        description = graph.get_check_spec(key).description or ""
        assert "How to fix:" in description and len(description.split("How to fix:")[0].strip()) > 10, key


def test_the_publish_asset_depends_on_every_published_table():
    from orchestration.definitions import defs
    from orchestration.defs.publish import published_asset_keys

    graph = defs.resolve_asset_graph()
    parents = graph.get(dg.AssetKey(["published", "pathways"])).parent_keys
    assert set(published_asset_keys()) <= parents and len(published_asset_keys()) >= 13
