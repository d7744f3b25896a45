"""The benchmark: speed and memory, measured and printed, never asserted in a test.

For each size: generate the data in one process, then in a fresh process (so peak memory is the
pipeline's own, not the generator's) validate every census file (rows per second), run the
refresh job (per-step wall time from Dagster's events), then a one-school incremental refresh,
beside a floor measured in the same run: DuckDB alone reading the same files and computing one
aggregate per source. Progress goes to stderr as each stage ends.

    .venv/bin/python -m bench.benchmark                 # default, ten, england: ~1.5 h
    BENCH_SIZES=tiny,default .venv/bin/python -m bench.benchmark   # ~4 minutes
Results go to data/bench/results.json and a table on stdout.

Sizes: ``default`` is the demo borough (Rotherham-shaped, 55,000 on roll, nine years); ``ten`` is
ten boroughs' pupils and schools in one authority; ``england`` is one academic year of 150
authorities (60,000 on roll each: 9 million pupils, about 22,000 schools, 22 learning communities
each) in one inbox and one warehouse, each authority's figures computed and published apart.
``england_tiny`` is the same shape at 3 small authorities, for the test suite.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from config.settings import PROJECT_ROOT

_TINY = {"pupils_on_roll": 1_500, "n_learning_communities": 2, "first_year": 2023, "last_year": 2024,
         "primary_schools_per_learning_community": 3, "n_special_schools": 1}
_AUTHORITY_YEAR = {"pupils_on_roll": 60_000, "n_learning_communities": 22, "first_year": 2024, "last_year": 2024,
                   "primary_schools_per_learning_community": 5, "n_special_schools": 7, "n_pupil_referral_units": 2}
# size -> (authorities, BoroughSpec settings of each); one authority is a borough on its own
SIZES: dict[str, tuple[int, dict]] = {
    "tiny": (1, _TINY),
    "default": (1, {}),
    "ten": (1, {"pupils_on_roll": 550_000, "n_learning_communities": 160, "n_special_schools": 40,
                "n_pupil_referral_units": 10}),
    "england": (150, _AUTHORITY_YEAR),
    "england_tiny": (3, {**_TINY, "first_year": 2024}),
}


def _say(size: str, message: str) -> None:
    print(f"[bench {size}] {message}", file=sys.stderr, flush=True)


def _peak_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return round(own, 1), round(children, 1)


def _settings(workdir: Path):
    """The benchmark's own settings, given explicitly: every path under its work folder (a
    warehouse path or DAGSTER_HOME set in the shell must never receive the benchmark's writes)."""
    from config.settings import Settings

    return Settings(data_dir=workdir / "data", warehouse_path=workdir / "data" / "warehouse.duckdb",
                    dagster_home=workdir / "dagster_home", log_level="WARNING",
                    inbox_settle_seconds=0,  # the benchmark writes its files whole: no settle wait in its timings
                    pseudonymisation_key=os.environ.get("PATHWAYS_PSEUDONYMISATION_KEY") or "benchmark-key")


def generate_size(size: str, workdir: Path) -> dict:
    """Write one size's files into the inbox (in its own process: its memory is not the pipeline's)."""
    from synthetic import BoroughSpec, generate
    from synthetic.england import generate_authorities

    inbox = _settings(workdir).inbox_dir
    authorities, spec = SIZES[size]
    t = time.perf_counter()
    if authorities == 1:
        manifest = generate(BoroughSpec(**spec), inbox)
        manifest["authorities"] = 1
    else:
        manifest = generate_authorities(authorities, BoroughSpec(**spec), inbox, lambda m: _say(size, m))
    out = {"seconds": round(time.perf_counter() - t, 2), "pupils": manifest["pupils_simulated"],
           "authorities": manifest["authorities"], "schools": manifest["schools"],
           "learning_communities": manifest["learning_communities"]}
    _say(size, f"generated in {out['seconds']} s: {out['pupils']:,} pupils, {out['schools']:,} schools")
    return out


def run_size(size: str, workdir: Path) -> dict:
    """One size's pipeline, in this process, on the files generate_size wrote: the measured figures."""
    settings = _settings(workdir)
    out: dict = {"size": size, "stages": {}}
    census = sorted(settings.inbox_dir.glob("school_census_*.csv"))

    out["floor"] = _duckdb_floor(settings.inbox_dir)
    _say(size, f"floor: DuckDB alone {out['floor']['total_seconds']} s")
    out["stages"]["validate_census"] = _validate(census, settings.validation_batch_rows)
    _say(size, f"validate census: {out['stages']['validate_census']['rows_per_second']:,} rows/s")

    from pathways.cli import run_refresh

    t = time.perf_counter()
    ok = run_refresh(settings)
    out["stages"]["refresh"] = {"seconds": round(time.perf_counter() - t, 2), "ok": ok, "steps": _last_run_steps(settings),
                                "assets_materialised": len(_last_run_materialised(settings))}
    _say(size, f"refresh: {out['stages']['refresh']['seconds']} s, ok={ok}, {out['stages']['refresh']['steps']}")

    # incremental: one new termly attendance file for one school
    import polars as pl

    last_att = sorted(settings.archive_dir.glob("*.csv"), key=lambda p: p.stat().st_mtime)
    source = next(p for p in reversed(last_att) if "PossibleSessions" in p.read_text(errors="ignore")[:300])
    frame = pl.read_csv(source, infer_schema_length=0)
    school = frame["LAESTAB"][0]
    frame.filter(pl.col("LAESTAB") == school).with_columns(
        pl.col("SessionsAuthorisedAbsence").cast(pl.Int64) + 1).write_csv(settings.inbox_dir / "attendance_correction.csv")
    t = time.perf_counter()
    ok_inc = run_refresh(settings, incremental=True)
    out["stages"]["incremental_refresh"] = {"seconds": round(time.perf_counter() - t, 2), "ok": ok_inc,
                                            "steps": _last_run_steps(settings),
                                            "materialised": _last_run_materialised(settings)}
    _say(size, f"incremental refresh: {out['stages']['incremental_refresh']['seconds']} s, ok={ok_inc}")
    own, children = _peak_mb()
    # children: dbt, and the processes that write the extracts
    out["peak_memory_mb"] = {"pipeline_process": own, "largest_child": children}
    return out


def _validate(files: list[Path], batch_rows: int) -> dict:
    """Read and validate every census file as the pipeline does (batches of uploads per GE run),
    and the largest one alone as ``pathways validate`` does. Reading is included: it is part of
    what a data lead waits for."""
    from expectations.runner import validate_table, validate_tables
    from ingest.canonical import canonicalise

    validate_table(canonicalise(files[0]))  # warm: imports and GE context are not throughput
    rows, t, batch = 0, time.perf_counter(), []
    for f in files:
        batch.append(canonicalise(f))
        if sum(b.frame.height for b in batch) >= batch_rows:
            validate_tables(batch)
            rows, batch = rows + sum(b.frame.height for b in batch), []
    if batch:
        validate_tables(batch)
        rows += sum(b.frame.height for b in batch)
    seconds = time.perf_counter() - t
    largest = max(files, key=lambda f: f.stat().st_size)
    t = time.perf_counter()
    one = canonicalise(largest)
    validate_table(one)
    one_seconds = time.perf_counter() - t
    return {"seconds": round(seconds, 2), "rows": rows, "rows_per_second": int(rows / seconds) if seconds else None,
            "files": len(files), "one_file": {"rows": one.frame.height, "seconds": round(one_seconds, 2),
                                              "rows_per_second": int(one.frame.height / one_seconds)}}


def _duckdb_floor(inbox: Path) -> dict:
    """DuckDB alone: read each source's files and compute one aggregate per source."""
    import duckdb

    con = duckdb.connect()
    queries = {
        "census": f"SELECT LAESTAB, count(*) FROM read_csv('{inbox}/school_census_*.csv', all_varchar=true) GROUP BY 1",
        "attendance": f"SELECT LAESTAB, sum(PossibleSessions::INT) FROM read_csv('{inbox}/attendance_*.csv') GROUP BY 1",
        "attainment": f"SELECT SubjectCode, count(*) FROM read_csv('{inbox}/ks4_*.csv', all_varchar=true) GROUP BY 1",
    }
    out = {}
    for name, q in queries.items():
        t = time.perf_counter()
        con.execute(q).fetchall()
        out[name] = round(time.perf_counter() - t, 2)
    out["total_seconds"] = round(sum(out.values()), 2)
    return out


def _last_run_steps(settings) -> dict[str, float]:
    import dagster as dg

    from pathways.cli import dagster_instance

    with dagster_instance(settings) as instance:
        run = instance.get_runs(filters=dg.RunsFilter(job_name="refresh"), limit=1)[0]
        stats = instance.get_run_step_stats(run.run_id)
    steps: dict[str, float] = {}
    for s in stats:
        group = ("ingest" if s.step_key.startswith(("raw__", "inbox__")) else
                 "dbt" if "dbt" in s.step_key else
                 "publish" if s.step_key.startswith("published") else "checks")
        if s.start_time and s.end_time:
            steps[group] = round(steps.get(group, 0) + (s.end_time - s.start_time), 2)
    return steps


def _last_run_materialised(settings) -> list[str]:
    import dagster as dg

    from pathways.cli import dagster_instance

    with dagster_instance(settings) as instance:
        run = instance.get_runs(filters=dg.RunsFilter(job_name="refresh"), limit=1)[0]
        records = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    return sorted({r.event_log_entry.dagster_event.asset_key.to_user_string() for r in records})


def main() -> int:
    sizes = os.environ.get("BENCH_SIZES", "default,ten,england").split(",")
    results = []
    for size in sizes:
        if size not in SIZES:
            print(f"unknown size {size!r}: one of {', '.join(SIZES)}", file=sys.stderr)
            return 2
        with tempfile.TemporaryDirectory(prefix=f"pathways-bench-{size}-") as tmp:
            figures = []
            for step in ("--generate", "--one"):  # progress and errors reach stderr as they happen
                proc = subprocess.run([sys.executable, "-m", "bench.benchmark", step, size, tmp],
                                      stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)
                if proc.returncode != 0:
                    print(proc.stdout[-2000:], file=sys.stderr)
                    return 1
                figures.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            generated, result = figures
            result["stages"] = {"generate": generated, **result["stages"]}
            results.append(result)
    _print(results)
    out = Path(os.environ.get("PATHWAYS_BENCH_OUT", PROJECT_ROOT / "data" / "bench" / "results.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": {"cpus": os.cpu_count()}, "results": results}, indent=2))
    print(f"\nresults: {out}")
    return 0


def _print(results: list[dict]) -> None:
    print(f"\n{'size':<12} {'stage':<24} {'seconds':>8}  detail")
    for r in results:
        s = r["stages"]
        rows = [
            ("generate", s["generate"]["seconds"],
             f"{s['generate']['pupils']:,} pupils simulated, {s['generate']['schools']:,} schools, "
             f"{s['generate']['learning_communities']:,} learning communities, "
             f"{s['generate']['authorities']} authorit{'y' if s['generate']['authorities'] == 1 else 'ies'}"),
            ("validate census", s["validate_census"]["seconds"],
             f"{s['validate_census']['files']} files, {s['validate_census']['rows']:,} rows, "
             f"{s['validate_census']['rows_per_second']:,} rows/s (read + rules, batched as the pipeline does)"),
            ("validate one file", s["validate_census"]["one_file"]["seconds"],
             f"{s['validate_census']['one_file']['rows']:,} rows, {s['validate_census']['one_file']['rows_per_second']:,} "
             "rows/s (pathways validate on the largest census file)"),
            ("refresh (total)", s["refresh"]["seconds"], ", ".join(f"{k} {v}s" for k, v in s["refresh"]["steps"].items())),
            ("incremental refresh", s["incremental_refresh"]["seconds"],
             ", ".join(f"{k} {v}s" for k, v in s["incremental_refresh"]["steps"].items())
             + f"; {len(s['incremental_refresh']['materialised'])} of {s['refresh']['assets_materialised']} assets rebuilt"),
            ("floor: DuckDB alone", r["floor"]["total_seconds"], "read each source's files, one aggregate each"),
        ]
        for name, secs, detail in rows:
            print(f"{r['size']:<12} {name:<24} {secs:>8}  {detail}")
        mem = r["peak_memory_mb"]
        print(f"{r['size']:<12} {'peak memory':<24} {'':>8}  pipeline process {mem['pipeline_process']} MB, "
              f"largest child (dbt or an extract writer) {mem['largest_child']} MB")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] in ("--generate", "--one"):
        step = generate_size if sys.argv[1] == "--generate" else run_size
        print(json.dumps(step(sys.argv[2], Path(sys.argv[3]))))
        sys.exit(0)
    sys.exit(main())
