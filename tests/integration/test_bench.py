"""The benchmark runs end to end at a tiny size (it measures; it asserts no timings)."""

import json


def test_benchmark_runs_at_a_tiny_size(tmp_path, monkeypatch):
    from bench import benchmark as bench

    out = tmp_path / "results.json"
    # tiny: one borough; england_tiny: the England size's shape (several authorities, one year)
    monkeypatch.setenv("BENCH_SIZES", "tiny,england_tiny")
    monkeypatch.setenv("PATHWAYS_BENCH_OUT", str(out))
    assert bench.main() == 0
    result, several = json.loads(out.read_text())["results"]
    assert several["stages"]["generate"]["authorities"] == 3 and several["stages"]["refresh"]["ok"]
    assert several["stages"]["generate"]["learning_communities"] == 6
    assert result["stages"]["refresh"]["ok"] and result["stages"]["incremental_refresh"]["ok"]
    assert result["stages"]["validate_census"]["rows"] > 0
    # the incremental refresh rebuilt attendance and what depends on it, not the other sources' models
    rebuilt = set(result["stages"]["incremental_refresh"]["materialised"])
    assert {"raw/attendance", "intermediate/int_attendance_enrolments", "published/pathways"} <= rebuilt
    assert not rebuilt & {"raw/census", "staging/stg_census__pupil_terms", "intermediate/int_ks4_pupils",
                          "intermediate/int_eyfs_pupils"}
    assert result["peak_memory_mb"]["pipeline_process"] > 0


def test_authorities_in_one_inbox_keep_their_codes_apart(tmp_path):
    """Several generated authorities share one inbox: no URN, LAESTAB, community or pupil is shared."""
    import polars as pl

    from synthetic import BoroughSpec
    from synthetic.england import generate_authorities

    spec = BoroughSpec(first_year=2024, last_year=2024, pupils_on_roll=1_500, n_learning_communities=2,
                       primary_schools_per_learning_community=3, n_special_schools=1)
    manifest = generate_authorities(3, spec, tmp_path)
    schools = pl.read_csv(tmp_path / "schools.csv", infer_schema_length=0)
    communities = pl.read_csv(tmp_path / "learning_communities.csv", infer_schema_length=0)
    assert schools["URN"].n_unique() == schools.height
    assert set(schools["PredecessorURN"].drop_nulls()) <= set(schools["URN"])
    assert communities["LearningCommunityCode"].n_unique() == communities.height == manifest["learning_communities"] == 6
    assert set(schools["LearningCommunityCode"]) == set(communities["LearningCommunityCode"])
    # each authority's schools carry its own LA code, and its pupils are nobody else's
    upns = {}
    for la in (300, 301, 302):
        census = pl.read_csv(tmp_path / f"school_census_2024-25_autumn_la{la}.csv", infer_schema_length=0)
        assert (census["LAESTAB"].str.slice(0, 3) == str(la)).all()
        upns[la] = set(census["UPN"])
    assert not (upns[300] & upns[301]) and not (upns[301] & upns[302]) and not (upns[300] & upns[302])
    # per authority 11 files and three census exclusions returns (spring 2025 to autumn 2025: the year's three
    # terms); no post-16 snapshots, as the borough's one Year 11 is not yet 16
    assert manifest["files"] == len(list(tmp_path.iterdir())) == 3 * (11 + 3) + 2
