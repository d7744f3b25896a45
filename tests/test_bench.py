"""The benchmark runs end to end at a tiny size (it measures; it asserts no timings)."""

import json


def test_benchmark_runs_at_a_tiny_size(tmp_path, monkeypatch):
    from orchestration import bench

    out = tmp_path / "results.json"
    monkeypatch.setenv("BENCH_SIZES", "tiny")
    monkeypatch.setenv("PATHWAYS_BENCH_OUT", str(out))
    assert bench.main() == 0
    result = json.loads(out.read_text())["results"][0]
    assert result["stages"]["refresh"]["ok"] and result["stages"]["incremental_refresh"]["ok"]
    assert result["stages"]["validate_census"]["rows"] > 0
    # the incremental refresh rebuilt attendance and what depends on it, not the other sources' models
    rebuilt = set(result["stages"]["incremental_refresh"]["materialised"])
    assert {"raw/attendance", "intermediate/int_attendance_enrolments", "published/pathways"} <= rebuilt
    assert not rebuilt & {"raw/census", "staging/stg_census__pupil_terms", "intermediate/int_ks4_pupils",
                          "intermediate/int_eyfs_pupils"}
    assert result["peak_memory_mb"]["pipeline_process"] > 0
