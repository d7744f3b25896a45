"""Write-audit-publish: build a new read-only publication beside the old one, then swap it in.

A publication is a folder ``published/<publication-id>/`` holding ``pathways.duckdb``
(aggregates only, suppressed), ``manifest.json`` and ``by_learning_community/`` extracts. What is
published, and how each column is treated, comes from the dbt manifest (publish/contract.py).
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
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from config.settings import PROJECT_ROOT, Settings
from engine.reader import open_reader
from ingest.retention import publication_record
from publish.audit import audit
from publish.contract import MEASURE_DECIMALS, ContractError, check_columns, load_contract
from publish.extracts import write_extracts
from publish.masking import SUPPRESSED, mask
from publish.open_data import write_open_data
from publish.relations import Rules
from publish.suppression import decide

# where the definitions are public when the scorecard (which serves docs/methodology.md) is not
METHODOLOGY_URL = "docs/methodology.md in the Pathways release (every definition, with its public DfE source)"


@dataclass
class Publication:
    publication_id: str
    path: Path
    manifest: dict


class PublicationBlocked(Exception):
    """Publishing refused (for example, a blocking check failed); nothing was changed."""


def audit_or_block(decision, settings: Settings, progress=print) -> dict:
    """The disclosure audit, a blocking step of write-audit-publish (docs/methodology.md#disclosure-audit):
    its figures for the manifest, or PublicationBlocked naming the counts a reader could narrow."""
    result = audit(decision.system, decision.hidden, settings.disclosure_protection_level)
    progress(f"disclosure audit: {result.cells_withheld:,} counts withheld, {result.cells_audited:,} audited, "
             f"narrowest range {result.narrowest_range} ({result.narrowest_cell}), {result.seconds:.1f} s")
    if not result.passed:
        raise PublicationBlocked(result.message())
    return result.as_manifest()


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


def publish(settings: Settings, manifest_path: Path, checks: list[dict] | None = None,
            progress: Callable[[str], None] = lambda m: None) -> Publication:
    """Build, audit and atomically publish the marts of the working warehouse, as the dbt
    manifest's publication contract describes them."""
    checks = checks or []
    failing = [c for c in checks if c.get("blocking") and not c.get("passed")]
    if failing:
        raise PublicationBlocked("blocking checks failed: " + "; ".join(f"{c['name']}: {c.get('description', '')}" for c in failing))
    try:
        contract = load_contract(manifest_path)
    except ContractError as e:
        raise PublicationBlocked(f"the publication contract is broken: {e}") from e
    t0 = time.perf_counter()
    now = datetime.now(UTC)
    pub_id = now.strftime("%Y%m%dT%H%M%S%fZ")
    root = settings.published_dir
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".building-*"):  # left by a run that was killed mid-publish
        _make_writable(stale)
        shutil.rmtree(stale, ignore_errors=True)
    building = root / f".building-{pub_id}"
    building.mkdir()
    try:
        with open_reader(settings) as wh:  # the marts as the chosen engine built them (engine/reader.py)
            # in one order whatever the engine (its columns, time period first): the open data's rows and defaults follow it
            marts = {name: wh.sql(f"SELECT * FROM {t.relation} ORDER BY ALL").pl() for name, t in contract.items()}
            uploads = wh.sql("SELECT upload_id, source, stage, source_file, sha256, rows, loaded_at "
                             "FROM raw.uploads ORDER BY loaded_at, source_file").pl()
            # retention periods, purges since the last publication, erasures: counts only (ingest/retention.py)
            data_protection = publication_record(wh, settings, current_manifest(settings))
        progress(f"read {len(marts)} marts ({sum(t.height for t in marts.values()):,} rows)")
        for name, frame in marts.items():
            check_columns(contract[name], frame.columns)
        rules = Rules.from_settings(settings)
        decision = decide(marts, rules)
        flags = decision.flags
        # each measure's decimal places, from the one definition (the measures seed)
        places = dict(marts["measures"].select("measure", "decimals").iter_rows()) if "measures" in marts else {}
        tables = {name: mask(contract[name], frame, flags.get(name, {}), places) for name, frame in marts.items()}
        withheld = sum(int(f.sum()) for table in flags.values() for f in table.values())
        progress(f"suppression: {withheld:,} figures withheld ({int(decision.hidden.sum()):,} counts, threshold "
                 f"{settings.suppression_threshold}, {decision.rounds} rounds)")
        if decision.coarsened:
            progress(f"suppression: published less (tables withheld whole, docs/methodology.md#publishing-less): "
                     f"{', '.join(decision.coarsened)}")
        audit_figures = audit_or_block(decision, settings, progress) if settings.disclosure_audit else None
        db = building / "pathways.duckdb"
        with duckdb.connect(str(db)) as pub:
            for name, frame in tables.items():
                pub.register("frame", frame.to_arrow())
                pub.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
                pub.unregister("frame")
        progress(f"wrote {db.name}: {', '.join(tables)}")
        open_data = write_open_data(building, tables)
        progress(f"wrote {len(open_data) // 2} open data files (EES standard) in open_data/")
        about = {"la_name": settings.la_name, "publication_id": pub_id, "published": now,
                 "contact": settings.publication_contact or f"The {settings.la_name} education data team.",
                 "methodology_url": (f"{settings.scorecard_public_url.rstrip('/')}/methodology"
                                     if settings.scorecard_public_url else METHODOLOGY_URL)}
        # the figures shown to their measure's decimal places (contract meta.decimals: measure)
        by_measure = {name: {c.name for c in t.columns.values() if c.decimals == MEASURE_DECIMALS}
                      for name, t in contract.items()}
        extracts = write_extracts(building, tables, marts["dim_learning_communities"], about, by_measure)
        progress(f"wrote {len(extracts)} learning community extracts")

        manifest = {
            "publication_id": pub_id,
            "created_at": now.isoformat(),
            "code_version": code_version(),
            "engine": settings.engine,  # which engine built the marts (engine/reader.py read them)
            "la": {"old_la_code": settings.la_code, "new_la_code": settings.new_la_code, "la_name": settings.la_name},
            "suppression": {"threshold": settings.suppression_threshold, "min_count": settings.suppression_min_count,
                            "suppressed_cells": withheld, "symbol": SUPPRESSED,
                            "group_disclosure_pupils": settings.suppression_group_disclosure_pupils,
                            "tables_withheld_whole": decision.coarsened},
            "disclosure_audit": audit_figures,
            "tables": {n: t.height for n, t in tables.items()},
            "extracts": extracts,
            "open_data": open_data,
            # per table, the figures shown to their measure's decimal places (the scorecard reads it)
            "measure_decimals": {n: sorted(cols) for n, cols in by_measure.items() if cols},
            "source_uploads": uploads.with_columns(pl.col("loaded_at").cast(pl.String)).to_dicts(),
            "checks": checks,
            "pseudonymisation_key_fingerprint": settings.key_fingerprint(),
            "data_protection": data_protection,
        }
        (building / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        _make_read_only(building)
        final = root / pub_id
        os.replace(building, final)
        _point_current(root, pub_id)
    except ContractError as e:
        shutil.rmtree(building, ignore_errors=True)
        raise PublicationBlocked(f"the publication contract is broken: {e}") from e
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    _prune(root, settings.publications_kept)
    manifest["seconds"] = round(time.perf_counter() - t0, 2)
    progress(f"published {pub_id} in {manifest['seconds']} s")
    return Publication(pub_id, final, manifest)


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
