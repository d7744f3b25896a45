"""The engines side by side: the same dbt build on DuckDB and on Spark at growing sizes, printed and
never asserted (README: Running on Spark, and on a cluster).

For each size: generate a borough, load it once (a real DuckDB refresh: ingest, dbt, publish), then
time, each in its own process, ``dbt build`` (every model, seed and test) on DuckDB, the raw lake
sync (engine/lake.py: all of it the first time, then again with nothing changed), and ``dbt build``
on a local Spark session (``local[2]``, this machine's two cores); then compare every mart of the
two builds (engine/parity.py). Peak memory is the build's processes together at their largest
(for Spark, the dbt process and the JVM it starts).

    .venv/bin/python -m bench.engines                       # tiny, default, quadruple
    BENCH_ENGINE_SIZES=tiny,default .venv/bin/python -m bench.engines
Results go to data/bench/engines.json and a table on stdout; progress on stderr.

Sizes are pupils on roll of one authority over the demo's years (``default`` is the demo borough,
about 55,000 on roll over nine years); ``quadruple`` is four times its pupils and communities.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from config.settings import PROJECT_ROOT

SIZES: dict[str, dict] = {
    "tiny": {"pupils_on_roll": 1_500, "n_learning_communities": 2, "first_year": 2023, "last_year": 2024,
             "primary_schools_per_learning_community": 3, "n_special_schools": 1},
    "default": {},
    "quadruple": {"pupils_on_roll": 220_000, "n_learning_communities": 64, "n_special_schools": 16,
                  "n_pupil_referral_units": 4},
}


def _say(size: str, message: str) -> None:
    print(f"[bench-engines {size}] {message}", file=sys.stderr, flush=True)


def _settings(workdir: Path, engine: str = "duckdb"):
    from config.settings import Settings

    return Settings(data_dir=workdir / "data", warehouse_path=workdir / "data" / "warehouse.duckdb",
                    dagster_home=workdir / "dagster_home", log_level="WARNING", inbox_settle_seconds=0, engine=engine,
                    spark_driver_memory=os.environ.get("BENCH_SPARK_MEMORY", "4g"),
                    pseudonymisation_key=os.environ.get("PATHWAYS_PSEUDONYMISATION_KEY") or "benchmark-key")


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (the JVM Spark starts included), from /proc."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            total += int(next(line for line in Path(f"/proc/{p}/status").read_text().splitlines()
                              if line.startswith("VmRSS:")).split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total / 1024


def _timed(command: list[str], log: Path, cwd: Path | None = None) -> dict:
    """Run one command in a child process, its output to ``log``: wall seconds, exit code and the peak
    of the resident memory of it and its descendants together (sampled every 0.2 s)."""
    t = time.perf_counter()
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        proc = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, _tree_rss_mb(proc.pid))
            time.sleep(0.2)
    return {"rc": proc.returncode, "seconds": round(time.perf_counter() - t, 1), "peak_mb": round(peak)}


def _dbt_build(settings) -> dict:
    from orchestration.dbt_args import DBT_PROJECT_DIR, dbt_args

    dbt = str(Path(sys.executable).parent / "dbt")
    return _timed([dbt, *dbt_args("build", settings, "--target-path", f"target/bench-{settings.engine}"),
                   "--profiles-dir", "."], settings.data_dir / "logs" / f"bench-dbt-{settings.engine}.log",
                  cwd=DBT_PROJECT_DIR)


def _lake_sync(settings) -> dict:
    code = ("import sys; from bench.engines import _settings; from engine.lake import sync; from pathlib import Path; "
            f"r = sync(_settings(Path({str(settings.data_dir.parent)!r}), 'spark')); "
            "sys.exit(0 if r.files else 1)")
    return _timed([sys.executable, "-c", code], settings.data_dir / "logs" / "bench-lake-sync.log", cwd=PROJECT_ROOT)


def run_size(size: str, workdir: Path) -> dict:
    import duckdb

    from engine.parity import compare, read_marts
    from engine.reader import open_reader
    from pathways.cli import run_refresh
    from synthetic import BoroughSpec, generate

    duck, spark = _settings(workdir), _settings(workdir, "spark")
    out: dict = {"size": size}
    t = time.perf_counter()
    generate(BoroughSpec(**SIZES[size]), duck.inbox_dir)
    _say(size, f"generated in {time.perf_counter() - t:.0f} s")
    t = time.perf_counter()
    assert run_refresh(duck), f"the {size} refresh failed"
    out["load_and_refresh_seconds"] = round(time.perf_counter() - t, 1)
    with duckdb.connect(str(duck.warehouse), read_only=True) as con:
        out["pupils"] = con.execute("SELECT count(DISTINCT pupil_key) FROM raw.census").fetchone()[0]
        out["raw_rows"] = sum(con.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0]
                              for t in ("census", "attendance", "attainment", "pupil_premium"))
    _say(size, f"loaded {out['pupils']:,} pupils, {out['raw_rows']:,} raw rows in {out['load_and_refresh_seconds']} s")
    out["duckdb_build"] = _dbt_build(duck)
    _say(size, f"dbt build on DuckDB: {out['duckdb_build']}")
    out["lake_sync_first"] = _lake_sync(spark)
    out["lake_sync_unchanged"] = _lake_sync(spark)
    _say(size, f"lake sync: first {out['lake_sync_first']}, unchanged {out['lake_sync_unchanged']}")
    out["spark_build"] = _dbt_build(spark)
    _say(size, f"dbt build on Spark: {out['spark_build']}")
    with open_reader(duck) as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' "
            "AND table_catalog = current_database()").fetchall()]
        left = read_marts(con, names)
    with open_reader(spark) as con:
        right = read_marts(con, names)
    out["marts"] = len(names)
    out["mart_rows"] = sum(f.height for f in left.values())
    out["mart_differences"] = [str(d) for d in compare(left, right)]
    _say(size, f"parity: {len(out['mart_differences'])} difference(s) in {out['marts']} marts, {out['mart_rows']:,} rows")
    return out


def table(results: list[dict]) -> str:
    rows = ["| size | pupils | raw rows | DuckDB dbt build | peak | lake sync (first / unchanged) | Spark dbt build | peak "
            "| Spark / DuckDB | marts differing |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        d, s = r["duckdb_build"], r["spark_build"]
        rows.append(f"| {r['size']} | {r['pupils']:,} | {r['raw_rows']:,} | {d['seconds']} s | {d['peak_mb']:,} MB "
                    f"| {r['lake_sync_first']['seconds']} / {r['lake_sync_unchanged']['seconds']} s "
                    f"| {s['seconds']} s{'' if s['rc'] == 0 else ' (failed)'} | {s['peak_mb']:,} MB "
                    f"| {s['seconds'] / d['seconds']:.1f}x | {len(r['mart_differences'])} |")
    return "\n".join(rows)


def main() -> None:
    sizes = [s for s in os.environ.get("BENCH_ENGINE_SIZES", "tiny,default,quadruple").split(",") if s]
    root = PROJECT_ROOT / "data" / "bench" / "engines"
    results = []
    for size in sizes:
        workdir = root / size
        if workdir.exists():
            subprocess.run(["rm", "-rf", str(workdir)], check=True)
        results.append(run_size(size, workdir))
        (root / "engines.json").write_text(json.dumps(results, indent=2))
    print(table(results))
    print(f"\n(2 cores shared; load average at the end {os.getloadavg()[0]:.1f}; "
          f"this process's peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024:,} MB)")


if __name__ == "__main__":
    main()
