"""The refresh job, its schedules, and the inbox sensor."""

import hashlib

import dagster as dg

from config.settings import Settings
from ingest.held import held_uploads
from ingest.inbox import detect, scan_inbox
from ingest.lock import running_refresh

UNRECOGNISED = dg.AssetKey(["inbox", "unrecognised"])

refresh_job = dg.define_asset_job(
    "refresh", selection=dg.AssetSelection.all(),
    description="Ingest the inbox, build the marts with dbt, run the checks and publish.",
)


def schedules(settings: Settings) -> list[dg.ScheduleDefinition]:
    return [
        dg.ScheduleDefinition(
            name="nightly_refresh", job=refresh_job, cron_schedule=settings.nightly_refresh_cron,
            execution_timezone="Europe/London", default_status=dg.DefaultScheduleStatus.RUNNING,
            description="Nightly refresh: picks up whatever arrived during the day."),
        dg.ScheduleDefinition(
            name="termly_full_refresh", job=refresh_job, cron_schedule=settings.termly_full_refresh_cron,
            execution_timezone="Europe/London", default_status=dg.DefaultScheduleStatus.RUNNING,
            description="Start of each term: a full rebuild after the census and attendance returns."),
    ]


def selection_for_inbox(defs: dg.Definitions, settings: Settings) -> list[dg.AssetKey] | None:
    """The raw assets of the sources waiting in the inbox and everything downstream of them (None:
    everything, when a file's source is unknown). One school's attendance file then rebuilds the
    attendance models and the marts, not the census, attainment or pupil premium models."""
    # files still settling count too: the refresh waits for them before it takes the inbox
    sources = {detect(f.path) for f in scan_inbox(settings) if f.state != "ignored"}
    sources |= {h.source for h in held_uploads(settings) if h.confirmed}
    if not sources or None in sources:
        return None
    raw = [dg.AssetKey(["raw", s]) for s in sorted(sources)]
    keys = dg.AssetSelection.assets(*raw).downstream().resolve(defs.resolve_asset_graph())
    return sorted(keys | {UNRECOGNISED}, key=lambda k: k.to_user_string())


@dg.sensor(job=refresh_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Starts a refresh when new files land in data/inbox/ and are complete, or a held upload is "
                       "confirmed (only what depends on their sources); never while a refresh runs.")
def inbox_sensor(context: dg.SensorEvaluationContext, settings: dg.ResourceParam[Settings]):
    running = running_refresh(settings)
    if running:
        return dg.SkipReason(f"a refresh is already running ({running})")
    scan = scan_inbox(settings)
    files = [f for f in scan if f.state == "ready"]
    confirmed = [h for h in held_uploads(settings) if h.confirmed]
    if not files and not confirmed:
        arriving = [f for f in scan if f.state == "arriving"]
        return dg.SkipReason(f"{len(arriving)} file(s) still arriving" if arriving else "inbox empty")
    stamp = ",".join([f"{f.name}:{f.changed_at}:{f.size}" for f in files] + [f"confirmed:{h.upload_id}" for h in confirmed])
    key = hashlib.sha256(stamp.encode()).hexdigest()[:16]
    if key == context.cursor:
        return dg.SkipReason("no new files since the last refresh request")
    context.update_cursor(key)
    from orchestration.definitions import build_definitions

    return dg.RunRequest(run_key=key, asset_selection=selection_for_inbox(build_definitions(settings), settings),
                         tags={"pathways/trigger": "inbox", "pathways/files": str(len(files) + len(confirmed))})
