"""One asset per raw table: each takes its source's files from the inbox (via ``ingest``)."""

import dagster as dg

from config.settings import Settings
from expectations.context import intake_checks
from ingest.inbox import InboxResult, process_inbox

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
            f"- {file}: {f.message} ({f.value})" + (f", row {f.row}" if f.row else "")
            for file, findings in result.warned for f in findings) or "none"),
    })


def _raw_asset(source: str, description: str) -> dg.AssetsDefinition:
    deps = [] if source in REFERENCE else [dg.AssetKey(["raw", "schools"])]

    @dg.asset(key=["raw", source], group_name="ingest", description=description, deps=deps, kinds={"duckdb", "python"})
    def _asset(context: dg.AssetExecutionContext, settings: dg.ResourceParam[Settings]) -> dg.MaterializeResult:
        result = process_inbox(settings, intake_checks(settings.key), [source], progress=context.log.info)
        return _report(source, result, settings)

    return _asset


@dg.asset(key=["inbox", "unrecognised"], group_name="ingest", kinds={"python"},
          description="Inbox files no source recognises (or that cannot be read): archived and quarantined with a report.")
def unrecognised_uploads(context: dg.AssetExecutionContext, settings: dg.ResourceParam[Settings]) -> dg.MaterializeResult:
    result = process_inbox(settings, intake_checks(None, validate=False), [None], progress=context.log.info)
    return _report("unrecognised", result, settings)


raw_assets = [_raw_asset(s, d) for s, d in RAW_SOURCES.items()]
