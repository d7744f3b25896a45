"""One asset per raw table: each takes its source's files from the inbox (via ``ingest``).

A file that is quarantined or held does not fail its step: the good files of the source are
materialised, and the ``uploads_accepted`` check (a warning, so it never blocks publication)
names each file turned away, why, and where its report is. Only trouble no file caused (the key
does not match the warehouse, the disk is full, another refresh holds the warehouse) fails the
step, leaving the files in the inbox.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from config.settings import Settings
from expectations.context import intake_checks
from ingest.identifiers import message_for_log, value_for_log
from ingest.inbox import InboxResult, IntakeStopped, process_inbox
from ingest.keys import KeyProblem
from ingest.lock import RefreshRunning, refresh_lock
from ingest.processing_log import record
from orchestration.owners import OWNERS

RAW_SOURCES = {
    "learning_communities": "Learning communities and their collaboratives (reference).",
    "schools": "The schools reference: URN, LAESTAB, phase, type, learning community, dates (a Pathways schools "
               "file or a GIAS establishment extract).",
    "school_links": "GIAS establishment links: predecessor and successor URNs (reference).",
    "community_membership": "Which learning community each school is in, by URN or LAESTAB (reference).",
    "census": "School census, pupil level, termly.",
    "attendance": "Attendance, pupil level, termly: possible sessions and absence.",
    "attainment": "Attainment: EYFSP, phonics, KS1, KS2 and KS4 results, long.",
    "pupil_premium": "Pupil premium eligibility: Ever 6 FSM, looked after, previously looked after, service child.",
    "exclusions": "School census exclusions module, pupil level, termly: suspensions and permanent exclusions.",
    "post16_activity": "The authority's monthly tracking of 16-17 year olds' activity (NCCIS codes), pupil level.",
    "early_years_census": "The January early years census: PVI providers' funded children, child level.",
    "eligible_two_year_olds": "The authority's list of two-year-olds eligible for funded early education (from DWP).",
    "home_areas": "Which learning community each postcode sector of the authority is in (reference).",
    "population_estimates": "ONS mid-year estimates of resident children by postcode sector and age (reference).",
    "ofsted_inspections": "Ofsted's management information on state-funded school inspections: each inspection's "
                          "grades by URN, EIF or report card (reference).",
}
REFERENCE = ("learning_communities", "schools", "school_links", "community_membership", "home_areas", "population_estimates")
ACCEPTED = "uploads_accepted"


def refresh_lock_resource(settings: Settings) -> dg.ResourceDefinition:
    """The refresh lock, held for a whole run (resources live as long as an in-process run). A run
    started by the daemon (schedule, sensor) waits ``refresh_wait_seconds`` for a running refresh;
    one started by `pathways refresh` already holds the lock, and takes it again."""

    @dg.resource(description="One refresh at a time: holds data/refresh.lock for the run.")
    def _lock(init_context: dg.InitResourceContext):
        run = init_context.run
        trigger = f"Dagster run {run.run_id[:8]}" if run else "Dagster run"
        with refresh_lock(settings, wait=settings.refresh_wait_seconds, trigger=trigger) as holder:
            yield holder

    return _lock


def _report(source: str, result: InboxResult, settings: Settings, key: dg.AssetKey) -> dg.MaterializeResult:
    turned_away = [(q[0], q[1], "quarantined") for q in result.quarantined] + \
                  [(h.file, f"{h.reason}; to load it: pathways confirm {h.upload_id}", "held") for h in result.held]
    where = {f.file: f.where for f in result.fates if f.where}
    lines = "\n".join(f"- **{fate}** `{f}`: {why}" + (f" (report: `{where[f]}/report.txt`)" if f in where else "")
                      for f, why, fate in turned_away)
    reports = {f"report: {f}": dg.MetadataValue.path(f"{where[f]}/report.txt") for f, _, _ in turned_away if f in where}
    rules = sorted({why.split(":", 1)[0].strip() for _, why, _ in turned_away if ":" in why})
    check = dg.AssetCheckResult(
        check_name=ACCEPTED, asset_key=key, passed=not turned_away, severity=dg.AssetCheckSeverity.WARN,
        description=(f"{len(result.quarantined)} file(s) quarantined, {len(result.held)} held for confirmation, nothing "
                     f"from them loaded: {', '.join(f for f, _, _ in turned_away[:3])}"
                     + (f" and {len(turned_away) - 3} more" if len(turned_away) > 3 else "")
                     + " (each file, why and its report: `pathways status`, or this check's metadata)")
        if turned_away else "every file taken was loaded",
        metadata={"quarantined": len(result.quarantined), "held": len(result.held),
                  "files": dg.MetadataValue.md(lines or "none"),
                  # the rule each file broke, and a link to each file's report, for the Dagster UI
                  "failed_rules": dg.MetadataValue.text(", ".join(rules) or "none"), **reports})
    return dg.MaterializeResult(metadata={
        "files_loaded": dg.MetadataValue.int(len(result.loaded)),
        "rows_loaded": dg.MetadataValue.int(result.rows),
        "duplicates_skipped": dg.MetadataValue.int(len(result.duplicates)),
        "rows_superseded": dg.MetadataValue.int(sum(r.superseded_rows for r in result.loaded)),
        "files_quarantined": dg.MetadataValue.int(len(result.quarantined)),
        "files_held": dg.MetadataValue.int(len(result.held)),
        "files": dg.MetadataValue.md("\n".join(f"- {r.file} ({r.rows:,} rows)" for r in result.loaded) or "none new"),
        "turned_away": dg.MetadataValue.md(lines or "none"),
        "quarantine": dg.MetadataValue.path(str(settings.quarantine_dir)),
        **({"failed_check": dg.MetadataValue.text(f"{ACCEPTED} ({', '.join(rules)})" if rules else ACCEPTED), **reports}
           if turned_away else {}),
        "still_arriving": dg.MetadataValue.md("\n".join(f"- {f.name}: {f.reason}" for f in result.arriving) or "none"),
        "warnings": dg.MetadataValue.md("\n".join(
            f"- {file}: {message_for_log(f.column, f.value, f.message)} ({value_for_log(f.column, f.value)})"
            + (f", row {f.row}" if f.row else "")
            for file, findings in result.warned for f in findings[:50]) or "none"),
    }, check_results=[check])


@contextmanager
def _not_the_files_fault() -> Iterator[None]:
    """Trouble no file caused fails the step with what to do (the files stay in the inbox)."""
    try:
        yield
    except (KeyProblem, IntakeStopped, RefreshRunning) as e:
        raise dg.Failure(description=f"Nothing was taken from the inbox: {e}") from e


def _raw_asset(source: str, description: str) -> dg.AssetsDefinition:
    deps = [] if source in REFERENCE else [dg.AssetKey(["raw", "schools"])]
    key = dg.AssetKey(["raw", source])

    @dg.asset(key=key, group_name="ingest", owners=[OWNERS["ingest"]], description=description, deps=deps,
              kinds={"duckdb", "python"},
              check_specs=[dg.AssetCheckSpec(ACCEPTED, asset=key, blocking=False,
                                             description="Every file taken from the inbox was loaded (a warning names "
                                                         "each file quarantined or held, and why). How to fix: read "
                                                         "the file's report (its path is in the check), correct the "
                                                         "file and put it in the inbox again; for a held file, run "
                                                         "pathways confirm <upload-id> if the change is intended.")])
    def _asset(context: dg.AssetExecutionContext, settings: dg.ResourceParam[Settings],
               refresh_lock: dg.ResourceParam[object]) -> dg.MaterializeResult:
        with _not_the_files_fault():
            recover_interrupted(settings, context.log.info)  # a purge or erasure killed midway (ingest/data_protection)
            result = process_inbox(settings, intake_checks(), [source], progress=context.log.info)
        _log_ingest(context, settings, source, result)
        return _report(source, result, settings, key)

    return _asset


UNRECOGNISED = dg.AssetKey(["inbox", "unrecognised"])


@dg.asset(key=UNRECOGNISED, group_name="ingest", owners=[OWNERS["ingest"]], kinds={"python"},
          check_specs=[dg.AssetCheckSpec(ACCEPTED, asset=UNRECOGNISED, blocking=False,
                                         description="No inbox file was unreadable or of an unknown source. How to "
                                                     "fix: read the file's report (its path is in the check) and "
                                                     "send it again as CSV (UTF-8) or .xlsx with a known header.")],
          description="Inbox files no source recognises (or that cannot be read): archived and quarantined with a report.")
def unrecognised_uploads(context: dg.AssetExecutionContext, settings: dg.ResourceParam[Settings],
                         refresh_lock: dg.ResourceParam[object]) -> dg.MaterializeResult:
    with _not_the_files_fault():
        recover_interrupted(settings, context.log.info)
        result = process_inbox(settings, intake_checks(validate=False), [None], progress=context.log.info)
    _log_ingest(context, settings, "unrecognised", result)
    return _report("unrecognised", result, settings, UNRECOGNISED)


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
