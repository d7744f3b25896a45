"""Write-audit-publish: build a new read-only publication beside the old one, then swap it in.

A publication is a folder ``published/<publication-id>/`` holding ``pathways.duckdb``
(aggregates only, suppressed), ``manifest.json`` and ``by_learning_community/`` extracts.
It is built under a hidden name, made read-only, renamed into place, and only then is
``published/current`` repointed - one atomic rename - so readers always see a complete
publication, and a crash or failed check leaves the last good one untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import polars as pl

from ingest.settings import PROJECT_ROOT, Settings
from ingest.suppression import suppress

SUPPRESSED = "c"
ONE_DECIMAL = ("value", "disadvantaged_value", "other_value", "gap", "gap_against_national", "rolling_disadvantaged_value",
               "rolling_other_value", "rolling_gap", "caught_up_percentage", "fell_behind_percentage",
               "stayed_in_community_percentage", "first_gap", "last_gap", "gap_change", "gap_change_lower_95",
               "gap_change_upper_95")
GEO = ["time_period", "measure", "geographic_level", "old_la_code", "learning_community_code"]
GAP_FIGURES = ("disadvantaged_numerator", "disadvantaged_denominator", "disadvantaged_pupils", "disadvantaged_value",
               "other_numerator", "other_denominator", "other_pupils", "other_value", "gap", "gap_against_national")
ROLLING_FIGURES = ("rolling_disadvantaged_numerator", "rolling_disadvantaged_denominator", "rolling_disadvantaged_pupils",
                   "rolling_disadvantaged_value", "rolling_other_numerator", "rolling_other_denominator",
                   "rolling_other_pupils", "rolling_other_value", "rolling_gap")
TREND_FIGURES = ("first_disadvantaged_numerator", "first_disadvantaged_denominator", "first_other_numerator",
                 "first_other_denominator", "last_disadvantaged_numerator", "last_disadvantaged_denominator",
                 "last_other_numerator", "last_other_denominator", "first_gap", "last_gap", "gap_change",
                 "gap_change_lower_95", "gap_change_upper_95", "gap_change_per_year", "gap_change_per_year_lower_95",
                 "gap_change_per_year_upper_95", "trend", "compared_with_national")
TRANSITION_COUNTS = ("pupils_tracked", "below_expected_before", "caught_up", "at_expected_before", "fell_behind",
                     "stayed_in_community")
# marts published, and the warehouse relation each comes from (pupil-level models never are)
PUBLISHED = {
    "learning_community_outcomes": "marts.learning_community_outcomes",
    "learning_community_disadvantage_gaps": "marts.learning_community_disadvantage_gaps",
    "learning_community_gap_index": "marts.learning_community_gap_index",
    "learning_community_gap_trends": "marts.learning_community_gap_trends",
    "learning_community_cohort_stages": "marts.learning_community_cohort_stages",
    "learning_community_cohort_transitions": "marts.learning_community_cohort_transitions",
    "school_categories": "marts.school_categories",
    "dim_learning_communities": "marts.dim_learning_communities",
    "dim_schools": "marts.dim_schools",
    "dim_academic_years": "marts.dim_academic_years",
    "measures": "reference.measures",
    "national_benchmarks": "reference.national_benchmarks",
    "national_gap_index": "reference.national_gap_index",
}


@dataclass
class Publication:
    publication_id: str
    path: Path
    manifest: dict


class PublicationBlocked(Exception):
    """Publishing refused (for example, a blocking check failed); nothing was changed."""


def code_version() -> str:
    try:
        out = subprocess.run(["git", "-C", str(PROJECT_ROOT), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=5)
        if out.returncode == 0:
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    from importlib.metadata import version

    return version("pathways")


def publish(settings: Settings, checks: list[dict] | None = None,
            progress: Callable[[str], None] = lambda m: None) -> Publication:
    """Build, audit and atomically publish the marts of the working warehouse."""
    checks = checks or []
    failing = [c for c in checks if c.get("blocking") and not c.get("passed")]
    if failing:
        raise PublicationBlocked("blocking checks failed: " + "; ".join(f"{c['name']}: {c.get('description', '')}" for c in failing))
    t0 = time.perf_counter()
    now = datetime.now(timezone.utc)
    pub_id = now.strftime("%Y%m%dT%H%M%S%fZ")
    root = settings.published_dir
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".building-*"):  # left by a run that was killed mid-publish
        _make_writable(stale)
        shutil.rmtree(stale, ignore_errors=True)
    building = root / f".building-{pub_id}"
    building.mkdir()
    try:
        with duckdb.connect(str(settings.warehouse), read_only=True) as wh:
            marts = {name: wh.sql(f"SELECT * FROM {rel}").pl() for name, rel in PUBLISHED.items()}
            uploads = wh.sql("SELECT upload_id, source, stage, source_file, sha256, rows, loaded_at "
                             "FROM raw.uploads ORDER BY loaded_at, source_file").pl()
        progress(f"read {len(marts)} marts ({sum(t.height for t in marts.values()):,} rows)")
        tables, withheld = suppress_for_publication(marts, settings.suppression_threshold, settings.suppression_min_count)
        progress(f"suppression: {withheld:,} cells withheld (threshold {settings.suppression_threshold})")
        db = building / "pathways.duckdb"
        with duckdb.connect(str(db)) as pub:
            for name, frame in tables.items():
                pub.register("frame", frame.to_arrow())
                pub.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
                pub.unregister("frame")
        progress(f"wrote {db.name}: {', '.join(tables)}")
        extracts = _extracts(building, tables, marts["dim_learning_communities"])
        progress(f"wrote {len(extracts)} learning community extracts")

        manifest = {
            "publication_id": pub_id,
            "created_at": now.isoformat(),
            "code_version": code_version(),
            "la": {"old_la_code": settings.la_code, "new_la_code": settings.new_la_code, "la_name": settings.la_name},
            "suppression": {"threshold": settings.suppression_threshold, "min_count": settings.suppression_min_count,
                            "suppressed_cells": withheld, "symbol": SUPPRESSED},
            "tables": {n: t.height for n, t in tables.items()},
            "extracts": extracts,
            "source_uploads": uploads.with_columns(pl.col("loaded_at").cast(pl.String)).to_dicts(),
            "checks": checks,
            "pseudonymisation_key_fingerprint": settings.key_fingerprint(),
        }
        (building / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        _make_read_only(building)
        final = root / pub_id
        os.replace(building, final)
        _point_current(root, pub_id)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    _prune(root, settings.publications_kept)
    manifest["seconds"] = round(time.perf_counter() - t0, 2)
    progress(f"published {pub_id} in {manifest['seconds']} s")
    return Publication(pub_id, final, manifest)


def suppress_for_publication(marts: dict[str, pl.DataFrame], threshold: int, min_count: int
                             ) -> tuple[dict[str, pl.DataFrame], int]:
    """Apply primary and complementary suppression to every published mart; figures become text."""
    out = dict(marts)
    withheld = 0

    outcomes = suppress(marts["learning_community_outcomes"], threshold, min_count)
    withheld += int(outcomes["suppressed"].sum())
    out["learning_community_outcomes"] = _mask(outcomes, ("numerator", "denominator", "pupils", "value"))
    hidden = (outcomes.filter((pl.col("breakdown") == "Disadvantage") & pl.col("suppressed"))
              .select(GEO).unique().with_columns(suppressed=pl.lit(True)))

    gaps = marts["learning_community_disadvantage_gaps"].join(hidden, on=GEO, how="left", nulls_equal=True)
    gaps = gaps.with_columns(pl.col("suppressed").fill_null(False))
    rolling_hidden = _rolling_suppression(gaps, outcomes, threshold, min_count)
    gaps = gaps.join(rolling_hidden, on=GEO, how="left", nulls_equal=True).with_columns(
        pl.col("rolling_suppressed").fill_null(False))
    withheld += int(gaps["rolling_suppressed"].sum())
    gaps = _mask(gaps, GAP_FIGURES)
    out["learning_community_disadvantage_gaps"] = _mask(gaps.drop("suppressed").rename({"rolling_suppressed": "suppressed"}),
                                                        ROLLING_FIGURES).drop("suppressed")

    index = marts["learning_community_gap_index"].with_columns(
        suppressed=(pl.col("disadvantaged_pupils") <= threshold) | (pl.col("other_pupils") <= threshold))
    withheld += int(index["suppressed"].sum())
    out["learning_community_gap_index"] = _mask(index, ("disadvantaged_pupils", "other_pupils", "disadvantaged_mean_percentile_rank",
                                                        "other_mean_percentile_rank", "gap_index"))

    # a trend rests on four cells (two groups, two years): withhold it if any of them is withheld,
    # or the withheld one could be solved for from the published change
    trends = marts["learning_community_gap_trends"]
    ends = hidden.select("time_period", "measure", "geographic_level", "old_la_code", "learning_community_code")
    first = ends.rename({"time_period": "first_time_period"}).with_columns(_f=pl.lit(True))
    last = ends.rename({"time_period": "last_time_period"}).with_columns(_l=pl.lit(True))
    keys = ["measure", "geographic_level", "old_la_code", "learning_community_code"]
    trends = (trends.join(first, on=["first_time_period", *keys], how="left", nulls_equal=True)
              .join(last, on=["last_time_period", *keys], how="left", nulls_equal=True)
              .with_columns(suppressed=pl.col("_f").fill_null(False) | pl.col("_l").fill_null(False)).drop("_f", "_l"))
    withheld += int(trends["suppressed"].sum())
    out["learning_community_gap_trends"] = _mask(trends, TREND_FIGURES)

    stages = marts["learning_community_cohort_stages"]
    shaped = stages.with_columns(
        pl.col("reception_cohort").alias("time_period"), pl.col("stage").alias("measure"), measure_type=pl.lit("percentage"),
        breakdown=pl.when(pl.col("subgroup") == "Total").then(pl.lit("Total")).otherwise(pl.lit("Disadvantage")))
    flagged = suppress(shaped, threshold, min_count)
    withheld += int(flagged["suppressed"].sum())
    out["learning_community_cohort_stages"] = _mask(stages.with_columns(suppressed=flagged["suppressed"]),
                                                    ("numerator", "denominator", "value"))

    moves = marts["learning_community_cohort_transitions"]
    shaped = moves.with_columns(
        pl.col("reception_cohort").alias("time_period"),
        (pl.col("from_stage") + ">" + pl.col("to_stage")).alias("measure"), measure_type=pl.lit("count"),
        numerator=pl.col("pupils_tracked").cast(pl.Float64), denominator=pl.col("pupils_tracked").cast(pl.Float64),
        breakdown=pl.when(pl.col("subgroup") == "Total").then(pl.lit("Total")).otherwise(pl.lit("Disadvantage")))
    few = pl.any_horizontal([(pl.col(c) >= 1) & (pl.col(c) < min_count) for c in TRANSITION_COUNTS[1:]]
                            + [((pl.col("below_expected_before") - pl.col("caught_up")).is_between(1, min_count - 1)),
                               ((pl.col("at_expected_before") - pl.col("fell_behind")).is_between(1, min_count - 1))])
    flagged = suppress(shaped, threshold, min_count, forced=moves.select(few).to_series())
    withheld += int(flagged["suppressed"].sum())
    out["learning_community_cohort_transitions"] = _mask(
        moves.with_columns(suppressed=flagged["suppressed"]),
        (*TRANSITION_COUNTS, "caught_up_percentage", "fell_behind_percentage", "stayed_in_community_percentage"))
    return out, withheld


def _rolling_suppression(gaps: pl.DataFrame, outcomes: pl.DataFrame, threshold: int, min_count: int) -> pl.DataFrame:
    """Which rolling (3-year) figures to withhold.

    A rolling figure pools up to three years. If some but not all of those years are withheld,
    publishing the pool would let the withheld year be recovered by subtraction, so it is
    withheld too ("all or none"); then the usual primary and complementary rules apply to the
    pools themselves (learning communities add up to the authority).
    """
    groups = {"disadvantaged": "Disadvantaged", "other": "Not known to be disadvantaged"}
    year_flags = (outcomes.filter(pl.col("breakdown") == "Disadvantage")
                  .select(*GEO, "subgroup", "suppressed").sort("time_period"))
    part = year_flags.with_columns(
        n_hidden=pl.col("suppressed").cast(pl.Int32).rolling_sum(3, min_samples=1)
        .over(["measure", "geographic_level", "old_la_code", "learning_community_code", "subgroup"]),
        n_years=pl.lit(1).cast(pl.Int32).rolling_sum(3, min_samples=1)
        .over(["measure", "geographic_level", "old_la_code", "learning_community_code", "subgroup"]),
    ).with_columns(partial=(pl.col("n_hidden") > 0) & (pl.col("n_hidden") < pl.col("n_years"))).select(*GEO, "subgroup", "partial")
    frames = []
    for prefix, subgroup in groups.items():
        frames.append(gaps.select(
            *GEO, "measure_type", pl.lit("Disadvantage").alias("breakdown"), pl.lit(subgroup).alias("subgroup"),
            pl.col(f"rolling_{prefix}_numerator").alias("numerator"),
            pl.col(f"rolling_{prefix}_denominator").alias("denominator"),
            pl.col(f"rolling_{prefix}_pupils").alias("pupils")))
    pools = pl.concat(frames).join(part, on=[*GEO, "subgroup"], how="left", nulls_equal=True)
    pools = pools.with_columns(pl.col("partial").fill_null(False))
    flagged = suppress(pools.drop("partial"), threshold, min_count, forced=pools["partial"])
    return (flagged.group_by(GEO).agg(rolling_suppressed=pl.col("suppressed").any()))


def _mask(frame: pl.DataFrame, figures: tuple[str, ...]) -> pl.DataFrame:
    """Figures become text, 'c' where suppressed (EES symbols), so no suppressed number ships."""
    return frame.with_columns([
        pl.when(pl.col("suppressed")).then(pl.lit(SUPPRESSED)).otherwise(_fmt(frame, c)).alias(c)
        for c in figures if c in frame.columns
    ])


def _fmt(frame: pl.DataFrame, col: str) -> pl.Expr:
    """Rates and gaps to one decimal place (as published); counts as whole numbers; z when not applicable."""
    c = pl.col(col)
    dtype = frame.schema[col]
    if dtype == pl.String:
        text = c
    elif col in ONE_DECIMAL:
        text = c.cast(pl.Float64).round(1).cast(pl.String)
    elif dtype.is_float():
        text = pl.when(c == c.round(0)).then(c.cast(pl.Int64).cast(pl.String)).otherwise(c.round(2).cast(pl.String))
    else:
        text = c.cast(pl.String)
    return pl.when(c.is_null()).then(pl.lit("z")).otherwise(text)


WORKBOOK_SHEETS = ("learning_community_disadvantage_gaps", "learning_community_gap_trends", "learning_community_outcomes",
                   "learning_community_gap_index", "learning_community_cohort_transitions", "school_categories",
                   "measures", "national_benchmarks")


def _extracts(building: Path, tables: dict[str, pl.DataFrame], communities: pl.DataFrame) -> dict[str, list[str]]:
    """Per learning community: its own rows plus its authority's and national benchmarks, nothing
    of another community's (nor another authority's, where the warehouse holds several)."""
    folder = building / "by_learning_community"
    folder.mkdir()
    # Split each table once by community, not one filter per community (England has thousands).
    # Rows keep the mart's order: authority benchmarks sit where the mart put them.
    own: dict[str, dict[str, pl.DataFrame]] = {}
    authority: dict[str, dict[str | None, pl.DataFrame]] = {}
    for name, frame in tables.items():
        if name in ("school_categories", "dim_schools", "dim_learning_communities") or "geographic_level" in frame.columns:
            indexed = frame.with_row_index("_order")
            by_lc = indexed.filter(pl.col("learning_community_code").is_not_null())
            own[name] = {key[0]: part for key, part in by_lc.partition_by("learning_community_code", as_dict=True).items()}
            if "geographic_level" in frame.columns and name != "school_categories":
                rows = indexed.filter(pl.col("geographic_level") == "Local authority")
                authority[name] = {key[0]: part for key, part in rows.partition_by("old_la_code", as_dict=True).items()}
    jobs = []
    for lc, la in communities.select("learning_community_code", "old_la_code").iter_rows():
        parts: dict[str, pl.DataFrame] = {}
        for name, frame in tables.items():
            if name in own:
                mine = own[name].get(lc, frame.clear().with_row_index("_order"))
                if name in authority and la in authority[name]:
                    mine = pl.concat([mine, authority[name][la]]).sort("_order")
                parts[name] = mine.drop("_order")
            else:
                parts[name] = frame
        jobs.append((folder, lc, parts))
    workers = min(os.cpu_count() or 1, len(jobs))
    if workers <= 1:
        return dict(_write_extract(*job) for job in jobs)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Writing is most of publishing (Excel through xlsxwriter is pure Python, and each DuckDB file
    # checkpoints on close), and the extracts are independent: one process per core writes them.
    # spawn, not fork: this process runs DuckDB and polars thread pools, which fork does not copy safely.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return dict(f.result() for f in [pool.submit(_write_extract, *job) for job in jobs])


def _write_extract(folder: Path, lc: str, parts: dict[str, pl.DataFrame]) -> tuple[str, list[str]]:
    """One learning community's ``.duckdb`` (every table) and ``.xlsx`` (the tables people read)."""
    import xlsxwriter

    with duckdb.connect(str(folder / f"{lc}.duckdb")) as con:
        for name, frame in parts.items():
            con.register("frame", frame.to_arrow())
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
            con.unregister("frame")
    with xlsxwriter.Workbook(folder / f"{lc}.xlsx") as wb:
        for name in WORKBOOK_SHEETS:
            frame = parts[name]
            if name == "learning_community_outcomes":  # the workbook keeps the headline breakdowns; the .duckdb has all
                frame = frame.filter(pl.col("breakdown").is_in(["Total", "Disadvantage"]))
            frame = frame.drop([c for c in ("country_code", "country_name", "new_la_code", "old_la_code", "suppressed")
                                if c in frame.columns])
            # widths from the header and the first rows: xlsxwriter's autofit measures every cell
            head = frame.head(200)
            widths = {c: min(40, max([len(c), *(len(str(v)) for v in head[c].to_list())]) + 2) for c in frame.columns}
            frame.write_excel(wb, worksheet=name.replace("learning_community_", "")[:31], column_widths=widths,
                              freeze_panes=(1, 0))
    return lc, [f"{lc}.duckdb", f"{lc}.xlsx"]


def _make_read_only(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            os.chmod(p, 0o444)


def _point_current(root: Path, pub_id: str) -> None:
    tmp = root / f".current-{pub_id}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(pub_id, tmp)
    os.replace(tmp, root / "current")  # rename over the old link: readers see old or new, never neither


def _prune(root: Path, keep: int) -> None:
    current = os.readlink(root / "current") if (root / "current").is_symlink() else None
    pubs = sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
    for old in pubs[:-keep] if keep > 0 else []:
        if old.name != current:
            _make_writable(old)
            shutil.rmtree(old, ignore_errors=True)


def _make_writable(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            os.chmod(p, 0o644)


def current_manifest(settings: Settings) -> dict | None:
    p = settings.published_dir / "current" / "manifest.json"
    return json.loads(p.read_text()) if p.exists() else None
