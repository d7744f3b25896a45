"""One asset per raw table: each takes its source's files from the inbox (via ``ingest``)."""

import dagster as dg

from config.settings import Settings
from expectations.context import intake_checks
from ingest.identifiers import message_for_log, value_for_log
from ingest.inbox import InboxResult, process_inbox
from ingest.processing_log import record

RAW_SOURCES = {
    "learning_communities": "Learning communities and their collaboratives (reference).",
    "schools": "The schools reference: URN, LAESTAB, phase, type, learning community, dates.",
    "census": "School census, pupil level, termly.",
    "attendance": "Attendance, pupil level, termly: possible sessions and absence.",
    "attainment": "Attainment: EYFSP, phonics, KS1, KS2 and KS4 results, long.",
    "pupil_premium": "Pupil premium eligibility: Ever 6 FSM, looked after, previously looked after, service child.",
}
REFERENCE = ("learning_communities", "schools")


def _report(source: str, result: InboxResult, settings: Settings) -> dg.MaterializeResult:
    if result.quarantined:
        lines = "\n".join(f"- {f}: {why}" for f, why in result.quarantined)
        raise dg.Failure(
            description=f"{len(result.quarantined)} {source} file(s) quarantined; nothing from them was loaded:\n{lines}",
            metadata={"quarantine": str(settings.quarantine_dir)},
        )
    return dg.MaterializeResult(metadata={
        "files_loaded": dg.MetadataValue.int(len(result.loaded)),
        "rows_loaded": dg.MetadataValue.int(result.rows),
        "duplicates_skipped": dg.MetadataValue.int(len(result.duplicates)),
        "rows_superseded": dg.MetadataValue.int(sum(r.superseded_rows for r in result.loaded)),
        "files": dg.MetadataValue.md("\n".join(f"- {r.file} ({r.rows:,} rows)" for r in result.loaded) or "none new"),
        "warnings": dg.MetadataValue.md("\n".join(
            f"- {file}: {message_for_log(f.column, f.value, f.message)} ({value_for_log(f.column, f.value)})"
            + (f", row {f.row}" if f.row else "")
            for file, findings in result.warned for f in findings) or "none"),
    })


def _raw_asset(source: str, description: str) -> dg.AssetsDefinition:
    deps = [] if source in REFERENCE else [dg.AssetKey(["raw", "schools"])]

    @dg.asset(key=["raw", source], group_name="ingest", description=description, deps=deps, kinds={"duckdb", "python"})
    def _asset(context: dg.AssetExecutionContext, settings: dg.ResourceParam[Settings]) -> dg.MaterializeResult:
        recover_interrupted(settings, context.log.info)
        result = process_inbox(settings, intake_checks(settings.key), [source], progress=context.log.info)
        _log_ingest(context, settings, source, result)
        return _report(source, result, settings)

    return _asset


@dg.asset(key=["inbox", "unrecognised"], group_name="ingest", kinds={"python"},
          description="Inbox files no source recognises (or that cannot be read): archived and quarantined with a report.")
def unrecognised_uploads(context: dg.AssetExecutionContext, settings: dg.ResourceParam[Settings]) -> dg.MaterializeResult:
    recover_interrupted(settings, context.log.info)
    result = process_inbox(settings, intake_checks(None, validate=False), [None], progress=context.log.info)
    _log_ingest(context, settings, "unrecognised", result)
    return _report("unrecognised", result, settings)


raw_assets = [_raw_asset(s, d) for s, d in RAW_SOURCES.items()]


# --- data protection: what each ingest did, in the processing log (ingest/processing_log.py) ---

def _log_ingest(context: dg.AssetExecutionContext, settings: Settings, source: str, result: InboxResult) -> None:
    if not (result.loaded or result.duplicates or result.quarantined):
        return
    tags = context.run.tags
    record(settings.data_dir, "ingest", "failed" if result.quarantined else "succeeded", {
        "source": source, "run_id": context.run.run_id,
        "trigger": tags.get("pathways/trigger") or tags.get("dagster/schedule_name") or tags.get("dagster/sensor_name") or "ui",
        "loaded": [{"file": r.file, "upload_id": r.upload_id, "rows": r.rows, "erased_rows_refused": r.erased_rows_refused}
                   for r in result.loaded],
        "duplicates": [r.file for r in result.duplicates],
        "quarantined": [f for f, _ in result.quarantined]})


def recover_interrupted(settings: Settings, progress) -> None:
    """Before anything is ingested: finish or undo a purge or erasure a kill interrupted
    (ingest/journal.py), if any (a cheap check when there is none)."""
    from ingest.journal import recover_interrupted as recover

    recover(settings.data_dir, settings.warehouse, progress)
