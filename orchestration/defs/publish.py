"""The publish asset: write-audit-publish of the marts, refusing when a blocking check failed.

A failing dbt test does not stop a downstream Python asset in the same run (dagster issues
25112, 18472), so publish reads this run's check results itself and refuses to publish when
any blocking (error-severity) check failed. What it publishes is the dbt manifest's
publication contract, and it depends on every table in it.
"""

import json

import dagster as dg

from config.settings import Settings
from ingest.processing_log import record
from orchestration.defs.dbt import translator
from orchestration.owners import OWNERS
from orchestration.project import dbt_project
from publish.contract import load_contract
from publish.publication import PublicationBlocked, publish


def published_asset_keys() -> list[dg.AssetKey]:
    """The asset key of every model and seed the publication contract lists."""
    nodes = json.loads(dbt_project.manifest_path.read_text())["nodes"]
    return sorted((translator.get_asset_key(nodes[t.node]) for t in load_contract(dbt_project.manifest_path).values()),
                  key=lambda k: k.to_user_string())


def run_check_results(context: dg.AssetExecutionContext) -> list[dict]:
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    results = []
    for r in records:
        ev = r.event_log_entry.dagster_event.event_specific_data
        blocking_meta = (ev.metadata or {}).get("blocking")
        results.append({
            "name": ev.check_name,
            "asset": ev.asset_key.to_user_string(),
            "passed": bool(ev.passed),
            "severity": ev.severity.value,
            # dbt tests of severity error and our blocking GE checks both gate publication
            "blocking": ev.severity == dg.AssetCheckSeverity.ERROR
            and (blocking_meta is None or bool(getattr(blocking_meta, "value", blocking_meta))),
            "description": str(ev.description or ""),
        })
    return results


@dg.asset(key=["published", "pathways"], group_name="publish", owners=[OWNERS["publish"]], deps=published_asset_keys(),
          kinds={"duckdb"},
          description="The read-only publication (aggregates only, suppressed) and per-learning-community extracts, "
                      "swapped into data/published/current atomically.")
def publication(context: dg.AssetExecutionContext, settings: dg.ResourceParam[Settings],
                refresh_lock: dg.ResourceParam[object]) -> dg.MaterializeResult:  # one refresh at a time
    checks = run_check_results(context)
    try:
        pub = publish(settings, dbt_project.manifest_path, checks, progress=context.log.info)
    except PublicationBlocked as e:
        failed = [c for c in checks if c["blocking"] and not c["passed"]]
        raise dg.Failure(description=f"Nothing was published; the last good publication stays. {e}", metadata={
            # which check stopped it (the check's own page says how to fix it), and where the good publication is
            "failed_checks": dg.MetadataValue.text(", ".join(f"{c['asset']} / {c['name']}" for c in failed) or "none"),
            "current_publication": dg.MetadataValue.path(str(settings.current_publication)),
        }) from e
    m = pub.manifest
    record(settings.data_dir, "publish", "succeeded", {
        "publication_id": m["publication_id"], "run_id": context.run.run_id, "source_uploads": len(m["source_uploads"]),
        "suppressed_cells": m["suppression"]["suppressed_cells"], "extracts": len(m["extracts"])})
    return dg.MaterializeResult(metadata={
        "publication_id": m["publication_id"],
        "path": dg.MetadataValue.path(str(pub.path)),
        "checks_passed": sum(c["passed"] for c in checks),
        "checks_failed": sum(not c["passed"] for c in checks),
        "suppressed_cells": m["suppression"]["suppressed_cells"],
        "source_uploads": len(m["source_uploads"]),
        "seconds": m["seconds"],
        "pathways/engine": settings.engine,  # which engine built the marts it publishes
    })
