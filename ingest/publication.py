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
FIGURES = ("numerator", "denominator", "value")
ONE_DECIMAL = ("value", "disadvantaged_value", "other_value", "gap", "gap_against_national")
GAP_FIGURES = ("disadvantaged_numerator", "disadvantaged_denominator", "disadvantaged_value",
               "other_numerator", "other_denominator", "other_value", "gap", "gap_against_national")


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
    building = root / f".building-{pub_id}"
    building.mkdir()
    try:
        with duckdb.connect(str(settings.warehouse), read_only=True) as wh:
            outcomes = wh.sql("SELECT * FROM marts.learning_community_outcomes").pl()
            gaps = wh.sql("SELECT * FROM marts.learning_community_disadvantage_gaps").pl()
            lcs = wh.sql("SELECT * FROM staging.stg_reference__learning_communities ORDER BY 1").pl()
            benchmarks = wh.sql("SELECT * FROM reference.national_benchmarks").pl()
            gap_index = wh.sql("SELECT * FROM reference.national_gap_index").pl()
            uploads = wh.sql("SELECT upload_id, source, stage, source_file, sha256, rows, loaded_at "
                             "FROM raw.uploads ORDER BY loaded_at, source_file").pl()
        progress(f"read marts: {outcomes.height:,} outcome rows, {gaps.height:,} gap rows")

        flagged = suppress(outcomes, settings.suppression_threshold, settings.suppression_min_count)
        tables = {
            "learning_community_outcomes": _mask(flagged, FIGURES),
            "learning_community_disadvantage_gaps": _mask_gaps(gaps, flagged),
            "learning_communities": lcs,
            "national_benchmarks": benchmarks,
            "national_gap_index": gap_index,
        }
        db = building / "pathways.duckdb"
        with duckdb.connect(str(db)) as pub:
            for name, frame in tables.items():
                pub.register("frame", frame.to_arrow())
                pub.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
                pub.unregister("frame")
        progress(f"wrote {db.name}: {', '.join(tables)}")
        extracts = _extracts(building, tables, lcs["learning_community_code"].to_list())
        progress(f"wrote {len(extracts)} learning community extracts")

        manifest = {
            "publication_id": pub_id,
            "created_at": now.isoformat(),
            "code_version": code_version(),
            "la": {"old_la_code": settings.la_code, "new_la_code": settings.new_la_code, "la_name": settings.la_name},
            "suppression": {"threshold": settings.suppression_threshold, "min_count": settings.suppression_min_count,
                            "suppressed_cells": int(flagged["suppressed"].sum()), "symbol": SUPPRESSED},
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


def _mask(frame: pl.DataFrame, figures: tuple[str, ...]) -> pl.DataFrame:
    """Figures become text, 'c' where suppressed (EES symbols), so no suppressed number ships."""
    return frame.with_columns([
        pl.when(pl.col("suppressed")).then(pl.lit(SUPPRESSED)).otherwise(_fmt(c)).alias(c) for c in figures
    ])


def _fmt(col: str) -> pl.Expr:
    """Rates and gaps to one decimal place (as published); counts and sums as written; z when not applicable."""
    c = pl.col(col)
    text = (c.cast(pl.Float64).round(1).cast(pl.String) if col in ONE_DECIMAL
            else pl.when(c == c.round(0)).then(c.cast(pl.Int64).cast(pl.String)).otherwise(c.round(1).cast(pl.String)))
    return pl.when(c.is_null()).then(pl.lit("z")).otherwise(text)


def _mask_gaps(gaps: pl.DataFrame, flagged: pl.DataFrame) -> pl.DataFrame:
    """A gap is withheld whenever either of its groups is withheld in the outcomes table."""
    key = ["time_period", "measure", "geographic_level", "learning_community_code"]
    hidden = (flagged.filter((pl.col("breakdown") == "Disadvantage") & pl.col("suppressed"))
              .select(key).unique().with_columns(suppressed=pl.lit(True)))
    g = gaps.join(hidden, on=key, how="left", nulls_equal=True).with_columns(pl.col("suppressed").fill_null(False))
    return _mask(g, GAP_FIGURES)


def _extracts(building: Path, tables: dict[str, pl.DataFrame], lc_codes: list[str]) -> dict[str, list[str]]:
    """Per learning community: its own rows plus borough and national benchmarks, nothing else."""
    folder = building / "by_learning_community"
    folder.mkdir()
    out: dict[str, list[str]] = {}
    for lc in lc_codes:
        own = lambda t: t.filter((pl.col("learning_community_code") == lc) | (pl.col("geographic_level") == "Local authority"))  # noqa: E731
        parts = {
            "outcomes": own(tables["learning_community_outcomes"]),
            "disadvantage_gaps": own(tables["learning_community_disadvantage_gaps"]),
            "national_benchmarks": tables["national_benchmarks"],
        }
        files = []
        for name, frame in parts.items():
            p = folder / f"{lc}_{name}.parquet"
            frame.write_parquet(p)
            files.append(p.name)
        xlsx = folder / f"{lc}.xlsx"
        import xlsxwriter

        with xlsxwriter.Workbook(xlsx) as wb:
            for name, frame in parts.items():
                frame.write_excel(wb, worksheet=name[:31], autofit=True, freeze_panes=(1, 0))
        files.append(xlsx.name)
        out[lc] = files
    return out


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
