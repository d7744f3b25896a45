"""The ``pathways`` command: demo, refresh, validate, status, query, confirm, generate, ui, dbt, serve,
users; and for data protection: retention, subject-access, erase, processing-log.

Built on typer (commands and options) and rich (tables, stage lines, progress bars). Long work shows
a few stages with their counts and elapsed time; the full log (Dagster's events, dbt's per-node
lines) goes to ``<data_dir>/logs/`` and to the terminal only with ``--verbose``. Expected outcomes
(a quarantined file, nothing new, a blocked publication, an unknown community) are plain sentences
naming the report to read, never tracebacks. ``--json`` on status, refresh and validate is for scripts.

Runs go through a real Dagster instance (``DAGSTER_HOME``, local storage by default), so a
refresh started here shows in the Dagster UI like one started there. The work is done by functions
that return what happened (``refresh()``, ``status_report()``, ``validate_file()``, ``run_query()``);
the commands only show it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from types import SimpleNamespace

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from config.labels import DISADVANTAGED, NOT_DISADVANTAGED, TOTAL
from config.settings import PROJECT_ROOT, Settings, get_settings

app = typer.Typer(name="pathways", add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Pathways: 0-19 outcomes and disadvantage gaps per learning community.")



class Size(StrEnum):
    default = "default"
    small = "small"


class Source(StrEnum):
    census = "census"
    attainment = "attainment"
    attendance = "attendance"
    pupil_premium = "pupil-premium"
    schools = "schools"
    learning_communities = "learning-communities"
    school_links = "school-links"
    community_membership = "community-membership"


class Format(StrEnum):
    text = "text"
    json = "json"
    html = "html"


EXIT_REFRESH_RUNNING = 75  # sysexits EX_TEMPFAIL: try again later
VERBOSE = typer.Option(False, "--verbose", "-v", help="show the full log (Dagster's events, dbt's lines) as well as the file")
JSON = typer.Option(False, "--json", help="print the outcome as JSON (for scripts)")


def _out() -> Console:
    """The terminal for results (stdout, read at call time so a test's capture sees it)."""
    return Console(file=sys.stdout, highlight=False, soft_wrap=True)


def _err() -> Console:
    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


def _progress(msg: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')}  {msg}", flush=True)


def _dagster_home(settings: Settings) -> Path:
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    if not cfg.exists():
        # one refresh at a time: DuckDB has one writer, and dbt runs share dbt_project/target
        cfg.write_text("telemetry:\n  enabled: false\nconcurrency:\n  runs:\n    max_concurrent_runs: 1\n")
    return home


def dagster_instance(settings: Settings):
    """The Dagster instance in the settings' folder (opened explicitly, not through DAGSTER_HOME)."""
    import dagster as dg

    return dg.DagsterInstance.from_config(str(_dagster_home(settings)))


@dataclass
class RunResult:
    """One run of the refresh job: did it publish, which checks failed, which steps failed and why."""

    ok: bool
    published: bool
    run_id: str | None = None
    failed_checks: list[dict] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)


def run_refresh(settings: Settings, tags: dict | None = None, incremental: bool = False, wait: float = 0) -> bool:
    """Materialise the refresh job in this process against the Dagster instance. True on success.

    The run log goes to the terminal (``log_level``); what failed is printed to stderr as plain
    sentences. ``incremental``: only the sources with files waiting in the inbox, and what depends
    on them. One refresh at a time: raises ``ingest.lock.RefreshRunning`` when another is running
    (after waiting up to ``wait`` seconds for it). Who ran it and how it ended go to the processing log."""
    result = execute_refresh(settings, tags, incremental, wait)
    explain_run(result, _err())
    return result.ok


def execute_refresh(settings: Settings, tags: dict | None = None, incremental: bool = False, wait: float = 0,
                    display=None) -> RunResult:
    """The refresh job, run in this process; with a ``display`` (pathways.progress.RunDisplay) the
    run's log goes to its file and its events to its stage lines instead of the terminal."""
    from ingest.lock import refresh_lock
    from ingest.processing_log import logged

    trigger = f"pathways {(tags or {}).get('pathways/trigger', 'refresh')}"
    details = {"trigger": (tags or {}).get("pathways/trigger", "cli"), "incremental": incremental}
    with refresh_lock(settings, wait=wait, trigger=trigger), logged(settings.data_dir, "refresh", details) as outcome:
        result = _execute(settings, tags, incremental, display)
        outcome["outcome"] = "succeeded" if result.ok else "failed"
    return result


def _execute(settings: Settings, tags: dict | None, incremental: bool, display) -> RunResult:
    import dagster as dg

    from orchestration.definitions import build_definitions
    from orchestration.defs.automation import selection_for_inbox

    defs = build_definitions(settings)
    job = defs.resolve_job_def("refresh")
    selection = selection_for_inbox(defs, settings) if incremental else None
    loggers = {"console": {"config": {"log_level": settings.log_level}}}
    if display is not None:
        if display.totals.get("warehouse") is None:
            display.totals["warehouse"] = _dbt_asset_count(defs, selection)
        job = job.with_logger_defs({"console": dg.colored_console_logger, "pathways_log": display.logger_def()})
        loggers = {"pathways_log": {}, **(loggers if display.verbose else {})}
    with dagster_instance(settings) as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False, tags=tags or {}, asset_selection=selection,
                                        run_config={"loggers": loggers})
        failed_checks = []
        for ev in result.all_events:
            if ev.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION and not ev.event_specific_data.passed:
                c = ev.event_specific_data
                failed_checks.append({"asset": c.asset_key.to_user_string(), "check": c.check_name,
                                      "blocking": c.severity == dg.AssetCheckSeverity.ERROR,
                                      "description": str(c.description or "failed")})
        published = any(ev.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
                        and ev.asset_key == dg.AssetKey(["published", "pathways"]) for ev in result.all_events)
        failures = []
        for ev in result.all_events:
            if ev.is_step_failure:
                err = ev.step_failure_data.error
                desc = ev.step_failure_data.user_failure_data.description if ev.step_failure_data.user_failure_data else None
                failures.append({"step": ev.step_key, "reason": desc or (err.message.strip() if err else "failed")})
        return RunResult(result.success and published, published, result.run_id, failed_checks, failures)


def _dbt_asset_count(defs, selection) -> int:
    """How many dbt models and seeds the run builds (the warehouse stage's progress bar)."""
    try:
        graph = defs.resolve_asset_graph()
        keys = selection.resolve(graph) if selection is not None else graph.materializable_asset_keys
        return sum(1 for k in keys if k.path[0] not in ("raw", "inbox", "published"))
    except Exception:  # noqa: BLE001 - only the bar's length: a spinner will do
        return 0


def explain_run(result: RunResult, console: Console) -> None:
    """Why a run did not publish (or which warnings it raised), in plain sentences."""
    for c in result.failed_checks:
        level = "BLOCKING" if c["blocking"] else "warning"
        console.print(f"check {level}: {c['asset']} / {c['check']}: {escape(c['description'])}")
    if not result.ok:
        console.print("\nNothing was published; the last good publication (if any) is unchanged.")
        for f in result.failures:
            console.print(f"- step {f['step']}: {escape(_first_lines(f['reason']))}")


def _first_lines(text: str, n: int = 12) -> str:
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return "\n    ".join(lines[:n]) + ("\n    ..." if len(lines) > n else "")


@dataclass
class RefreshOutcome:
    """What one refresh did: published or not, and what became of each file it took."""

    published: bool
    started_at: str
    fates: list[dict] = field(default_factory=list)       # the intake log's entries for this refresh
    left_in_inbox: list = field(default_factory=list)      # ingest.status.FileStatus: arriving or ignored
    running: str | None = None                             # set when another refresh was running instead
    nothing_new: str | None = None                         # set when there was nothing to do (and no --force)
    run: RunResult | None = None
    stages: list[dict] = field(default_factory=list)
    log: str | None = None
    publication_id: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k not in ("left_in_inbox", "run")}
        d["left_in_inbox"] = [{"file": f.file, "state": f.state, "reason": f.reason} for f in self.left_in_inbox]
        d["failed_checks"] = self.run.failed_checks if self.run else []
        d["failures"] = self.run.failures if self.run else []
        return d


def nothing_new(settings: Settings) -> str | None:
    """Why a refresh would have nothing to do (a sentence), or None when there is work: files ready in
    the inbox, a confirmed held upload, an interrupted purge or erasure, no publication yet, or a
    refresh running (which the refresh itself reports). Reads files only: quick, no Dagster."""
    from ingest import journal
    from ingest.held import held_uploads
    from ingest.inbox import scan_inbox
    from ingest.lock import running_refresh
    from publish.publication import current_manifest

    if running_refresh(settings) is not None or journal.pending(settings.data_dir):
        return None
    m = current_manifest(settings)
    if m is None or m.get("engine", "duckdb") != settings.engine:  # PATHWAYS_ENGINE changed: build on the new one
        return None
    files = scan_inbox(settings)
    if any(f.state == "ready" for f in files) or any(h.confirmed for h in held_uploads(settings)):
        return None
    arriving = [f for f in files if f.state == "arriving"]
    return (f"Nothing new in the inbox ({settings.inbox_dir}): the current publication {m['publication_id']} "
            f"(created {m['created_at'][:16].replace('T', ' ')}) stays."
            + (f" {len(arriving)} file(s) still arriving will be taken once complete." if arriving else "")
            + " To rebuild and republish anyway (after changing a setting, say), run `pathways refresh --force`.")


def refresh(settings: Settings, wait: float = 0, incremental: bool = False, tags: dict | None = None,
            force: bool = True, display=None) -> RefreshOutcome:
    """Run one refresh (or find one running, or nothing new unless ``force``) and return what it did."""
    from ingest import ledger
    from ingest.lock import RefreshRunning
    from ingest.status import intake_status

    t0 = time.perf_counter()
    started = datetime.now().astimezone().isoformat(timespec="seconds")
    if not force:
        why = nothing_new(settings)
        if why:
            return RefreshOutcome(False, started, nothing_new=why, publication_id=_current_id(settings),
                                  seconds=round(time.perf_counter() - t0, 1))
    try:
        if display is not None:
            with display:
                run = execute_refresh(settings, tags=tags or {"pathways/trigger": "cli"}, incremental=incremental,
                                      wait=wait, display=display)
        else:
            run = execute_refresh(settings, tags=tags or {"pathways/trigger": "cli"}, incremental=incremental, wait=wait)
    except RefreshRunning as e:
        return RefreshOutcome(False, started, running=str(e))
    status = intake_status(settings)
    return RefreshOutcome(run.ok, started, ledger.entries(settings, since=started),
                          [f for f in status.inbox if f.state != "waiting"], run=run,
                          stages=display.stages if display is not None else [],
                          log=str(display.log_path) if display is not None else None,
                          publication_id=_current_id(settings), seconds=round(time.perf_counter() - t0, 1))


def _display(settings: Settings, command: str, verbose: bool, quiet: bool = False, totals: dict | None = None):
    from pathways.progress import RunDisplay, log_file

    return RunDisplay(log_file(settings.data_dir, command), verbose=verbose, quiet=quiet, totals=totals)


def _inbox_total(settings: Settings) -> int:
    from ingest.inbox import scan_inbox

    return sum(f.state == "ready" for f in scan_inbox(settings))


def intake_lines(outcome: RefreshOutcome) -> list[str]:
    """What became of the files a refresh took: one plain sentence per file turned away, with its report."""
    lines = []
    for e in outcome.fates:
        if e["fate"] == "quarantined":
            report = f" Report: {e['where']}/report.txt" if e.get("where") else ""
            lines.append(f"{e['file']} was quarantined (nothing from it was loaded): {e['reason']}.{report}")
        elif e["fate"] == "held":
            report = f" Report: {e['where']}/report.txt" if e.get("where") else ""
            lines.append(f"{e['file']} is held for confirmation: {e['reason']}. To load it as it is: "
                         f"pathways confirm {e['upload_id']}.{report}")
    for f in outcome.left_in_inbox:
        lines.append(f"{f.file} was left in the inbox ({f.state}): {f.reason}.")
    return lines


def _show_outcome(outcome: RefreshOutcome, console: Console) -> None:
    """The plain sentences after a refresh: files turned away, why nothing was published, the log."""
    for line in intake_lines(outcome):
        console.print(escape(line))
    run = outcome.run
    if run is None:
        return
    blocking = [c for c in run.failed_checks if c["blocking"]]
    warnings = [c for c in run.failed_checks if not c["blocking"] and c["check"] != "uploads_accepted"]
    for c in warnings:
        console.print(escape(f"Warning from check {c['check']} on {c['asset']}: {_first_lines(c['description'], 1)}"))
    if not outcome.published:
        if blocking:
            names = ", ".join(f"{c['check']} ({c['asset']})" for c in blocking)
            console.print(escape(f"Nothing was published: {len(blocking)} blocking check(s) failed: {names}. "
                                 f"The last good publication ({outcome.publication_id or 'none'}) stays."))
            for c in blocking:
                console.print(escape(f"  {c['check']}: {_first_lines(c['description'], 2)}"))
        else:
            console.print(escape(f"Nothing was published; the last good publication ({outcome.publication_id or 'none'}) "
                                 "stays."))
        for f in run.failures:
            if not any(c["check"] in f["reason"] for c in blocking):  # the check's own line above says it
                console.print(escape(f"  step {f['step']}: {_first_lines(f['reason'], 3)}"))


def _wipe(data_dir: Path) -> None:
    for p in data_dir.rglob("*"):
        if p.is_file() and not p.is_symlink():
            os.chmod(p, 0o644)
    shutil.rmtree(data_dir)


# --- demo and refresh ------------------------------------------------------------------------

@app.command()
def demo(size: Size = typer.Option(Size.default, help="the demo borough's size"),
         fresh: bool = typer.Option(False, "--fresh", help="wipe the data folder and start again"),
         force: bool = typer.Option(False, "--force", help="rebuild and republish even when nothing is new"),
         verbose: bool = VERBOSE) -> int:
    """Generate the demo borough (first time) and run the whole pipeline."""
    settings = get_settings()
    out = _out()
    t0 = time.perf_counter()
    marker = settings.data_dir / "demo_borough.json"
    if fresh and settings.data_dir.exists():
        _wipe(settings.data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    display = _display(settings, "demo", verbose)
    size = Size(size).value
    out.print(f"Pathways demo: the {size} demo borough, in {settings.data_dir}")
    if not marker.exists():
        from synthetic import BoroughSpec, generate, small_borough
        from synthetic.files import write_manifest

        spec = small_borough() if size == "small" else BoroughSpec(seed=settings.demo_seed)
        with display:
            display.begin_stage("generate")
            manifest = generate(spec, settings.inbox_dir, progress=display.message)
            write_manifest(manifest, marker)
            display.end_stage(f"{len(manifest['files'])} files written to the inbox")
        # written whole by this process a moment ago: nothing to wait for before taking them
        settings = settings.model_copy(update={"inbox_settle_seconds": 0})
    display.totals["ingest"] = _inbox_total(settings)
    outcome = refresh(settings, tags={"pathways/trigger": "demo"}, force=force, display=display)
    if outcome.running is not None:
        _err().print(f"{outcome.running}. Wait for it (pathways refresh --wait) or see `pathways status`.")
        return EXIT_REFRESH_RUNNING
    if outcome.nothing_new:
        out.print(f"Nothing new since the last run: showing the current publication {outcome.publication_id} "
                  "(`.venv/bin/pathways demo --force` runs it all again; `--fresh` starts from a new borough).")
    else:
        _show_outcome(outcome, out)
    if outcome.nothing_new is None and not outcome.published:
        out.print(f"\nFull log: {display.log_path}")
        return 1
    out.print(summary(settings))
    out.print(_next_steps(settings))
    out.print(f"Done in {time.perf_counter() - t0:.0f} s. Full log: {display.log_path}")
    return 0


@app.command("refresh")
def refresh_command(
        incremental: bool = typer.Option(False, "--incremental",
                                         help="rebuild only what depends on the sources of the files waiting in the inbox"),
        wait: float | None = typer.Option(None, "--wait", metavar="SECONDS",
                                          help="if a refresh is running, wait for it (up to SECONDS) instead of exiting at once"),
        force: bool = typer.Option(False, "--force", help="rebuild and republish even when nothing new is in the inbox"),
        verbose: bool = VERBOSE, as_json: bool = JSON) -> int:
    """Take the inbox's files, rebuild, check and publish (says so and stops when nothing is new)."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    display = _display(settings, "refresh", verbose, quiet=as_json, totals={"ingest": _inbox_total(settings)})
    outcome = refresh(settings, wait=wait or 0, incremental=incremental, force=force, display=display)
    code = (EXIT_REFRESH_RUNNING if outcome.running else 0 if outcome.nothing_new or outcome.published else 1)
    if as_json:
        print(json.dumps({**outcome.as_dict(), "exit_code": code}, indent=2, default=str))
        return code
    out = _out()
    if outcome.running:
        _err().print(f"{outcome.running}. Wait for it (pathways refresh --wait) or see `pathways status`.")
        return code
    if outcome.nothing_new:
        out.print(escape(outcome.nothing_new))
        return code
    _show_outcome(outcome, out)
    if outcome.published:
        out.print(f"Published {outcome.publication_id} in {outcome.seconds:.0f} s.")
    out.print(f"Full log: {outcome.log}")
    return code




def summary(settings: Settings) -> str:
    """A readable summary of the current publication: per learning community, pupils and KS2 RWM."""
    import duckdb

    db = settings.current_publication
    if not db.exists():
        return "No publication yet."
    with duckdb.connect(str(db), read_only=True) as con:
        year = con.execute("SELECT max(time_period) FROM learning_community_disadvantage_gaps "
                           "WHERE measure = 'ks2_rwm_expected'").fetchall()[0][0]
        rows = con.execute("""
            SELECT coalesce(g.learning_community_code, 'ALL') AS code,
                   coalesce(g.learning_community_name, g.la_name || ' (borough)') AS name,
                   -- a withheld figure is NULL with its symbol in <figure>_status (docs/methodology.md)
                   coalesce(CAST(CAST(p.denominator AS BIGINT) AS VARCHAR), p.denominator_status) AS pupils,
                   coalesce(CAST(g.disadvantaged_value AS VARCHAR), g.disadvantaged_value_status),
                   coalesce(CAST(g.other_value AS VARCHAR), g.other_value_status),
                   coalesce(CAST(g.gap AS VARCHAR), g.gap_status),
                   g.disadvantaged_denominator, g.other_denominator
            FROM learning_community_disadvantage_gaps g
            LEFT JOIN learning_community_outcomes p
              ON p.time_period = g.time_period AND p.measure = 'pupils_on_roll' AND p.breakdown = ?
             AND p.geographic_level = g.geographic_level AND p.old_la_code = g.old_la_code
             AND p.learning_community_code IS NOT DISTINCT FROM g.learning_community_code
            WHERE g.measure = 'ks2_rwm_expected' AND g.time_period = ?
            ORDER BY g.geographic_level, g.old_la_code, g.learning_community_code""", [TOTAL, year]).fetchall()
        nat = con.execute("SELECT max(CASE WHEN subgroup = ? THEN value END), max(CASE WHEN subgroup = ? THEN value END) "
                          "FROM national_benchmarks WHERE measure = 'ks2_rwm_expected' AND time_period = ?",
                          [DISADVANTAGED, NOT_DISADVANTAGED, year]).fetchall()[0]
    label = f"{str(year)[:4]}/{str(year)[4:]}"
    out = [f"KS2 reading, writing and maths at the expected standard, {label} (publication {_current_id(settings)})",
           "'c' = withheld (small numbers). Gap = other minus disadvantaged, percentage points. On roll = pupils",
           "on roll at all ages that year (the KS2 percentages are of the KS2 cohort).",
           f"{'Learning community':<34} {'On roll':>7} {'Disadv. %':>10} {'Other %':>8} {'Gap':>6}",
           "-" * 69]
    for code, name, pupils, dis, oth, gap, _dis_n, _oth_n in rows:
        if code == "ALL":
            out.append("-" * 69)
        out.append(f"{(name or code)[:34]:<34} {pupils or '':>7} {dis:>10} {oth:>8} {gap:>6}")
    if nat[0] is not None:
        out.append(f"{'England (national benchmark)':<34} {'':>7} {nat[0]:>10} {nat[1]:>8} {_gap(nat[1], nat[0]):>6}")
    return "\n".join(out)


def _gap(other, disadvantaged):
    try:
        return round(float(other) - float(disadvantaged), 1)
    except (TypeError, ValueError):
        return ""


def _current_id(settings: Settings) -> str:
    link = settings.published_dir / "current"
    return os.readlink(link) if link.is_symlink() else "none"


# The closing lines of `make demo`: every command here runs as written (tests/integration/test_cli.py).
NEXT_STEPS = [
    ("make ui", "Dagster UI on http://127.0.0.1:3000: runs, assets, checks"),
    ("make serve", "the scorecard on http://127.0.0.1:8000, with demo sign-ins"),
    ("make notebook LC=LC03", "a notebook on http://127.0.0.1:2718, charts for one community"),
    (".venv/bin/pathways status", "the publication, the inbox, anything quarantined"),
    (".venv/bin/pathways query --tables", "the publication's tables; then: pathways query \"SELECT ...\""),
]


def _next_steps(settings: Settings) -> str:
    return "\n".join(["Next:"] + [f"  {command:<36}# {what}" for command, what in NEXT_STEPS])


# --- status ---------------------------------------------------------------------------------

def status_report(settings: Settings) -> dict:
    """Everything `pathways status` says, as data: every line is derived from these facts, so they agree."""
    from ingest.status import intake_status
    from publish.publication import current_manifest

    m = current_manifest(settings)
    status = intake_status(settings)
    report: dict = {"publication": None, "last_refresh": _last_run(settings), "refresh_running": None,
                    "key": status.key, "key_matches_publication": True}
    if m is not None:
        checks = m.get("checks", [])
        report["publication"] = {
            "id": m["publication_id"], "created_at": m["created_at"], "code_version": m.get("code_version"),
            "uploads": len(m["source_uploads"]), "withheld_cells": m["suppression"]["suppressed_cells"],
            "checks_passed": sum(c["passed"] for c in checks), "checks_warning": sum(not c["passed"] for c in checks),
            "latest_uploads": [{"file": u["source_file"], "source": u["source"], "rows": u["rows"], "sha256": u["sha256"]}
                               for u in m["source_uploads"][-5:]],
            "path": str(settings.current_publication)}
        recorded = m.get("pseudonymisation_key_fingerprint")
        report["key_matches_publication"] = not recorded or recorded in status.key
        report["publication_key_fingerprint"] = recorded
    if status.refresh:
        report["refresh_running"] = str(status.refresh)
    report["inbox"] = [{"file": f.file, "state": f.state, "reason": f.reason} for f in status.inbox]
    report["held"] = [{"file": f.file, "upload_id": f.upload_id, "state": f.state, "reason": f.reason,
                       "report": str(f.report)} for f in status.held]
    report["quarantined"] = [{"file": f.file, "source": f.source, "reason": f.reason, "report": str(f.report)}
                             for f in status.quarantined]
    report["taken"] = [{"file": f.file, "state": f.state, "at": f.at, "reason": f.reason} for f in status.taken[-10:]]
    report["intake_log"] = str(settings.intake_log)
    report["data_protection"] = _data_protection_status(settings)
    last = report["last_refresh"]
    if last and m is not None:
        # the current publication came from the last refresh only if it succeeded after it was created
        last["published_current"] = last["status"] == "SUCCESS" and last.get("publication_id") == m["publication_id"]
    return report


def _last_run(settings: Settings) -> dict | None:
    """The latest refresh in the Dagster instance: how it ended, each failing check, each failed step and why."""
    import dagster as dg

    with dagster_instance(settings) as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(job_name="refresh"), limit=1)
        if not runs:
            return None
        run = runs[0]
        stats = instance.get_run_stats(run.run_id)

        def events(kind):
            return [r.event_log_entry for r in instance.get_records_for_run(run.run_id, of_type=kind, limit=1000).records]

        checks = [e.dagster_event.event_specific_data for e in events(dg.DagsterEventType.ASSET_CHECK_EVALUATION)]
        failing = [{"asset": c.asset_key.to_user_string(), "check": c.check_name,
                    "blocking": c.severity == dg.AssetCheckSeverity.ERROR, "description": str(c.description or "")}
                   for c in checks if not c.passed]
        failures = []
        for e in events(dg.DagsterEventType.STEP_FAILURE):
            data = e.dagster_event.step_failure_data
            desc = data.user_failure_data.description if data.user_failure_data else None
            failures.append({"step": e.step_key, "reason": _first_lines(desc or (data.error.message if data.error else "failed"), 2)})
        pub = None
        for e in events(dg.DagsterEventType.ASSET_MATERIALIZATION):
            mat = e.dagster_event.event_specific_data.materialization
            if mat.asset_key == dg.AssetKey(["published", "pathways"]):
                pub = getattr(mat.metadata.get("publication_id"), "value", None)
        ended = stats.end_time or stats.start_time
        return {"run_id": run.run_id, "status": run.status.value, "trigger": run.tags.get("pathways/trigger", "ui"),
                "ended_at": datetime.fromtimestamp(ended).astimezone().isoformat(timespec="seconds") if ended else None,
                "checks": len(checks), "failing_checks": failing, "failed_steps": failures, "publication_id": pub}


def _status_lines(r: dict) -> list[str]:
    lines: list[str] = []
    p = r["publication"]
    if p is None:
        lines.append("No publication yet. Run `make demo` or `pathways refresh`.")
    else:
        lines.append(f"Current publication: {p['id']} (created {p['created_at']}, code {p['code_version']})")
        lines.append(f"  from {p['uploads']} uploads; {p['withheld_cells']:,} cells withheld; checks at publication: "
                     f"{p['checks_passed']} passed, {p['checks_warning']} warnings")
        for u in p["latest_uploads"]:
            lines.append(f"  - {u['file']} ({u['source']}, {u['rows']:,} rows, sha256 {u['sha256'][:12]}…)")
    lines.append(f"Pseudonymisation key: {r['key']}" + ("" if r["key_matches_publication"] else
                 f"; NOT the key of the current publication (fingerprint {r['publication_key_fingerprint']}): "
                 "see README, 'The pseudonymisation key'"))
    if r["refresh_running"]:
        lines.append(f"A refresh is running now ({r['refresh_running']}).")
    last = r["last_refresh"]
    if last is None:
        lines.append("Last refresh: none recorded in this Dagster instance")
    else:
        when = f"{(last['ended_at'] or '')[:16].replace('T', ' ')}, run {last['run_id'][:8]}, {last['trigger']}"
        blocking = [c for c in last["failing_checks"] if c["blocking"]]
        warnings = [c for c in last["failing_checks"] if not c["blocking"]]
        if last["status"] == "SUCCESS":
            head = f"Last refresh: succeeded ({when}) and published {last['publication_id'] or 'nothing new'}"
        elif last["status"] in ("STARTED", "STARTING", "QUEUED", "NOT_STARTED"):
            head = f"Last refresh: {last['status'].lower()} ({when})"
        else:
            head = (f"Last refresh: {last['status'].lower()} ({when}); nothing was published by it"
                    + (f", so the current publication {p['id']} is from an earlier refresh" if p else ""))
        lines.append(head)
        for c in blocking:
            lines.append(f"  blocking check failed: {c['asset']} / {c['check']}: {_first_lines(c['description'], 1)}")
        for c in warnings:
            lines.append(f"  warning: {c['asset']} / {c['check']}: {_first_lines(c['description'], 1)}")
        shown = {c["check"] for c in blocking}
        for f in last["failed_steps"]:
            if not any(name in f["reason"] for name in shown):
                lines.append(f"  step failed: {f['step']}: {f['reason']}")
        if last["status"] == "SUCCESS" and not last["failing_checks"]:
            lines.append(f"  all {last['checks']} checks passed")
        elif last["status"] != "SUCCESS" and not last["failing_checks"] and not last["failed_steps"]:
            lines.append("  no check failed; see the run in the Dagster UI (make ui) for why it stopped")
    lines.append(f"Inbox: {len(r['inbox'])} file(s)" + (":" if r["inbox"] else ""))
    lines += [f"  {f['state']:<11} {f['file']}: {f['reason']}" for f in r["inbox"]]
    lines.append(f"Held for confirmation: {len(r['held'])}" + (":" if r["held"] else ""))
    lines += [f"  {f['state']:<11} {f['file']} ({f['upload_id']}): {f['reason']} (report: {f['report']})" for f in r["held"]]
    lines.append(f"Quarantine: {len(r['quarantined'])} upload(s)" + (":" if r["quarantined"] else ""))
    lines += [f"  quarantined {f['file']} ({f['source']}): {f['reason']} (report: {f['report']})" for f in r["quarantined"][-20:]]
    if r["taken"]:
        lines.append(f"Taken from the inbox lately (last {len(r['taken'])} of the intake log, {r['intake_log']}):")
        lines += [f"  {f['state']:<11} {f['file']} at {f['at']}: {f['reason']}" for f in r["taken"]]
    lines += r["data_protection"]
    return lines


@app.command()
def status(as_json: bool = JSON) -> int:
    """The current publication, the last refresh, every inbox file's state, held and quarantined uploads."""
    report = status_report(get_settings())
    if as_json:
        print(json.dumps(report, indent=2, default=str))
    else:
        for line in _status_lines(report):
            print(line)
    return 0


# --- query ----------------------------------------------------------------------------------

@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    publication: Path


class QueryError(Exception):
    """A query that cannot run (no publication, bad SQL): said in one sentence."""


def run_query(settings: Settings, sql: str) -> QueryResult:
    """Run SQL read-only on the current publication (aggregates only: nothing here identifies a pupil)."""
    import duckdb

    db = settings.current_publication
    if not db.exists():
        raise QueryError("No publication yet: run `make demo` or `pathways refresh` first.")
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            cur = con.execute(sql)
            if cur.description is None:
                return QueryResult([], [], db)
            return QueryResult([d[0] for d in cur.description], cur.fetchall(), db)
    except duckdb.Error as e:
        raise QueryError(f"The query did not run: {str(e).splitlines()[0]}") from e


TABLES_SQL = ("SELECT table_name AS \"table\", count(*) AS columns, string_agg(column_name, ', ' ORDER BY ordinal_position) "
              "AS column_names FROM information_schema.columns WHERE table_schema = 'main' GROUP BY table_name ORDER BY 1")


@app.command()
def query(sql: str | None = typer.Argument(None, help="the SQL, in quotes (DuckDB's dialect)"),
          tables: bool = typer.Option(False, "--tables", help="list the publication's tables and their columns"),
          csv: bool = typer.Option(False, "--csv", help="print CSV (with a header) instead of a table"),
          as_json: bool = JSON,
          limit: int = typer.Option(100, "--limit", help="rows shown in the table (CSV and JSON give every row)")) -> int:
    """Ask the current publication anything, read-only: `pathways query "SELECT ..."`."""
    if not sql and not tables:
        _err().print("Give the SQL in quotes, e.g. pathways query \"SELECT * FROM learning_community_outcomes LIMIT 5\", "
                     "or `pathways query --tables` to see the tables.")
        return 2
    try:
        result = run_query(get_settings(), TABLES_SQL if tables else sql)
    except QueryError as e:
        _err().print(escape(str(e)))
        return 1
    if as_json:
        print(json.dumps([dict(zip(result.columns, row)) for row in result.rows], indent=2, default=str))
    elif csv:
        import csv as csvlib

        w = csvlib.writer(sys.stdout, lineterminator="\n")
        w.writerow(result.columns)
        w.writerows(result.rows)
    else:
        table = Table(*result.columns, title=f"{len(result.rows):,} row(s) from {result.publication.parent.resolve().name}",
                      title_justify="left", header_style="bold")
        for row in result.rows[:limit]:
            table.add_row(*("" if v is None else str(v) for v in row))
        console = _out()
        console.print(table)
        if len(result.rows) > limit:
            console.print(f"(first {limit} of {len(result.rows):,} rows: --limit N shows more; --csv or --json gives them all)")
    return 0


# --- the others -------------------------------------------------------------------------------

@app.command()
def confirm(upload_id: str) -> int:
    """Load a held upload as it is, at the next refresh (pathways confirm <upload-id>)."""
    from ingest.held import NotHeld
    from ingest.held import confirm as confirm_upload

    try:
        held = confirm_upload(get_settings(), upload_id)
    except NotHeld as e:
        _err().print(escape(str(e)))
        return 1
    print(f"Confirmed {held.file} ({held.upload_id}): {held.reason}.\n"
          "The next refresh loads it as it is (run `pathways refresh`, or the inbox sensor starts one).")
    return 0


@app.command()
def generate(out: Path = typer.Argument(..., help="the folder to write the files to"),
             size: Size = typer.Option(Size.default),
             seed: int | None = typer.Option(None)) -> int:
    """Write a synthetic borough's files to a folder."""
    from synthetic import BoroughSpec, small_borough
    from synthetic import generate as generate_borough

    spec = small_borough(seed or 7) if Size(size) == Size.small else BoroughSpec(seed=seed or 372)
    manifest = generate_borough(spec, out, progress=_progress)
    print(json.dumps({k: v for k, v in manifest.items() if k != "files"}, indent=2))
    return 0


@app.command()
def validate(file: Path = typer.Argument(..., help="the file to check"),
             source: Source | None = typer.Option(None, help="the source, if not recognised"),
             sheet: str | None = typer.Option(None, help="the sheet of a workbook"),
             format: Format = typer.Option(Format.text, "--format"),
             output: str | None = typer.Option(None, help="write the report to this file instead of the terminal"),
             as_json: bool = typer.Option(False, "--json", help="the report as JSON (same as --format json)")) -> int:
    """Check an upload before it is loaded. Exit 0 valid (warnings allowed), 1 has errors, 2 unreadable."""
    from expectations.reports import as_html, as_text
    from expectations.reports import as_json as report_json

    render = {"text": as_text, "json": report_json, "html": as_html}["json" if as_json else format.value]
    settings = get_settings()
    outcome = validate_file(settings, file, source.value if source else None, sheet)
    if outcome.note:
        print(f"note: {outcome.note}", file=sys.stderr)
    _emit(render(outcome.summary, outcome.findings), output)
    from ingest.archive import sha256_file
    from ingest.processing_log import record

    record(settings.data_dir, "validate", "done",
           {"file": file.name, "sha256": sha256_file(file) if file.is_file() else None,
            "source": outcome.summary.source, "rows": outcome.summary.rows, "verdict": outcome.summary.verdict})
    if outcome.unreadable:
        return 2
    return 1 if outcome.summary.errors else 0


def _emit(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text)
        print(f"report written to {output}")
    else:
        sys.stdout.write(text)


@app.command()
def ui(port: int = typer.Option(3000, help="the port on 127.0.0.1")) -> int:
    """Dagster UI and daemon on 127.0.0.1."""
    import subprocess

    home = _dagster_home(get_settings())
    env = {**os.environ, "DAGSTER_HOME": str(home)}  # the child's environment only
    cmd = [str(Path(sys.executable).parent / "dagster"), "dev", "-m", "orchestration.definitions",
           "-h", "127.0.0.1", "-p", str(port)]
    print(f"Dagster UI on http://127.0.0.1:{port} (DAGSTER_HOME={home}); Ctrl-C to stop.")
    return subprocess.call(cmd, env=env, cwd=PROJECT_ROOT)


PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


@app.command(context_settings=PASS_THROUGH)
def dbt(ctx: typer.Context) -> int:
    """Run a dbt command with the Pathways settings (e.g. pathways dbt test -s marts)."""
    import subprocess

    from ingest.processing_log import record
    from orchestration.dbt_args import DBT_PROJECT_DIR, dbt_args

    extra = [a for a in ctx.args if a != "--"]
    if not extra:
        _err().print("Give a dbt command, e.g. pathways dbt build -s learning_community_outcomes")
        return 2
    settings = get_settings()
    dbt_exe = Path(sys.executable).parent / "dbt"
    words = [extra.pop(0)]
    while extra and not extra[0].startswith("-"):  # docs generate, source freshness
        words.append(extra.pop(0))
    if settings.engine == "spark" and words[0] in ("build", "run", "test", "seed", "show", "source") \
            and settings.warehouse.exists():
        from engine.lake import sync  # Spark reads the raw uploads from the Parquet lake: bring it up to date

        _err().print(sync(settings).summary())
    code = subprocess.call([str(dbt_exe), *dbt_args(" ".join(words), settings, *extra), "--profiles-dir", "."],
                           cwd=DBT_PROJECT_DIR)
    if words[0] not in ("parse", "compile", "ls", "list", "deps", "clean", "debug"):  # these read no data
        # who ran what against the warehouse by hand (dbt show, --store-failures read pupil-level rows)
        record(settings.data_dir, "dbt", "succeeded" if code == 0 else "failed", {"command": " ".join(words + extra)})
    return code


def _argparse_command(name: str, args: list[str]) -> int:
    """serve and users keep their argparse definitions (scorecard/commands.py); typer hands them the words."""
    import argparse

    from scorecard.commands import add_commands

    parser = argparse.ArgumentParser(prog="pathways")
    add_commands(parser.add_subparsers(dest="command", required=True))
    try:
        ns = parser.parse_args([name, *args])
    except SystemExit as e:
        return int(e.code or 0)
    return ns.fn(ns)


@app.command(context_settings=PASS_THROUGH)
def serve(ctx: typer.Context) -> int:
    """The strategic performance group scorecard (web application); --help for its options."""
    return _argparse_command("serve", ctx.args)


@app.command(context_settings=PASS_THROUGH)
def users(ctx: typer.Context) -> int:
    """Scorecard accounts: add, remove, assign communities, list, audit log; --help for each."""
    return _argparse_command("users", ctx.args)
@dataclass
class ValidationOutcome:
    summary: object          # expectations.reports.Summary
    findings: list
    unreadable: bool = False
    note: str | None = None  # why the cross-file checks were skipped, if they were


def validate_file(settings: Settings, path: Path, source: str | None = None, sheet: str | None = None) -> ValidationOutcome:
    """Every finding for one file, as the pipeline would judge it (with the warehouse as context when it
    can be read with the warehouse's own key)."""
    import duckdb

    from config.settings import KeyMissing, fingerprint
    from expectations.context import validate_upload
    from expectations.reports import summarise
    from ingest.canonical import canonicalise, restrict_to_authority
    from ingest.readers import UnreadableFile

    t0 = time.perf_counter()
    try:
        table = restrict_to_authority(canonicalise(path, source, sheet), settings.la_code)  # a GIAS extract: this LA's
    except UnreadableFile as e:
        return ValidationOutcome(summarise(path.name, "unknown", 0, e.findings), e.findings, unreadable=True)
    con, key, note = None, None, None
    if settings.warehouse.exists():
        try:  # the warehouse adds cross-file checks; a refresh holding it just means we skip them
            con = duckdb.connect(str(settings.warehouse), read_only=True)
        except duckdb.Error:
            note = "the warehouse is busy (a refresh is running); cross-file checks skipped"
    if con is not None:
        try:
            recorded = con.execute("SELECT key_fingerprint FROM raw.pseudonymisation_key LIMIT 1").fetchone()
        except duckdb.Error:
            recorded = None
        try:
            key = settings.key
            if recorded and fingerprint(key) != recorded[0]:
                key, note = None, "the key in use is not the warehouse's; cross-file checks skipped"
        except KeyMissing as e:
            note = f"{e}; cross-file checks skipped"
        if key is None:
            con.close()
            con = None
    try:
        findings = validate_upload(table, con, key)
    finally:
        if con is not None:
            con.close()
    return ValidationOutcome(summarise(path.name, table.source.label, table.raw.frame.height, findings,
                                       time.perf_counter() - t0), findings, note=note)




# --- data protection: retention, subject access, erasure, the processing log ------------------
# Each command is a thin face on a function in ingest/ that returns data (retention.make_plan /
# purge, subject_access.search / write_export, erasure.erase, processing_log.read / verify).

def cmd_retention(args) -> int:
    """Dry run by default: what is past its retention period. --apply deletes it, then refreshes."""
    from datetime import date

    from ingest import processing_log, retention

    settings = get_settings()
    as_of = date.fromisoformat(args.as_of) if args.as_of else None
    if not args.apply:
        con = _read_only_warehouse(settings)
        try:
            plan = retention.make_plan(settings, con, as_of, args.years)
        finally:
            if con is not None:
                con.close()
        print(json.dumps(plan.as_dict(), indent=2, default=str) if args.json else plan.describe())
        processing_log.record(settings.data_dir, "retention_review", "done", plan.counts())
        if not plan.empty:
            print("\nDry run: nothing was deleted. `pathways retention --apply` (with the same options) deletes it.")
        return 0
    with processing_log.logged(settings.data_dir, "retention_purge", {"as_of": args.as_of, "years": args.years}) as log:
        result = retention.purge(settings, as_of, args.years, progress=_steps)
        log.update(operation_id=result.operation_id, **result.plan.counts())
    print(result.plan.describe())
    print(result.describe())
    if result.operation_id and not args.no_refresh:
        print("Rebuilding the pupil-level models and marts from what remains, and publishing ...")
        if not run_refresh(settings, tags={"pathways/trigger": "retention"}):
            print("The purge stands; the rebuild failed (see above). Run `pathways refresh` once it is fixed.", file=sys.stderr)
            return 1
        print(f"Published; its manifest.json records the purge under data_protection (publication {_current_id(settings)}).")
    return 0


def _invalid_upns(upns: list[str]) -> int:
    """2 (and a message) when any UPN is not a valid UPN; a typo must not search for, or erase, nobody."""
    from ingest.identifiers import is_valid_upn

    bad = [u for u in upns if not is_valid_upn(u.strip().upper())]
    if bad:
        print(f"Not a valid UPN (13 characters, the first a check letter that matches the rest): {', '.join(bad)}",
              file=sys.stderr)
        return 2
    return 0


def _steps(msg: str) -> None:
    """Progress of a purge or erasure: its steps, not each file it deletes (the summary counts them)."""
    if not msg.startswith(("deleted /", "replaced /")):
        _progress(msg)


def _data_protection_status(settings: Settings) -> list[str]:
    """Lines for `status`: what is past its retention period, the last purge, erasures, an interrupted operation."""
    from ingest import journal, pupil_records, retention

    lines = []
    if journal.pending(settings.data_dir):
        lines.append("Data protection: a purge or erasure was interrupted; the next refresh, purge or erasure finishes or undoes it")
    try:
        con = _read_only_warehouse(settings)
    except SystemExit:
        return lines + ["Data protection: the warehouse is busy (a refresh is running); ask again when it has finished"]
    if con is None:
        return lines
    with con:
        plan = retention.make_plan(settings, con)
        purges = retention.purges_since(con, None)
        erased = len(pupil_records.erased(con))
    lines.append(f"Data protection: {sum(plan.raw_rows.values()):,} raw rows and {len(plan.uploads) + len(plan.quarantined)} files "
                 f"past their retention period{' (`pathways retention` lists them)' if not plan.empty else ''}; "
                 + (f"last purge {purges[-1]['committed_at'][:16]}; " if purges else "no purge yet; ")
                 + f"{erased} pupil(s) erased")
    return lines


def _read_only_warehouse(settings: Settings):
    import duckdb

    if not settings.warehouse.exists():
        return None
    try:
        return duckdb.connect(str(settings.warehouse), read_only=True)
    except duckdb.Error as e:
        raise SystemExit("The warehouse is busy (a refresh is running): try again when it has finished.") from e


def cmd_subject_access(args) -> int:
    from ingest import processing_log, subject_access

    settings = get_settings()
    bad = _invalid_upns(args.upn)
    if bad:
        return bad
    with processing_log.logged(settings.data_dir, "subject_access", {"reference": args.reference}) as log:
        result = subject_access.search(settings, args.upn)
        folder = Path(args.output) if args.output else subject_access.export_folder(settings, result)
        written = subject_access.write_export(result, folder)
        # the log names the pupil by their keyed pseudonym only
        log.update(pupil_keys=result.pupil_keys, export=str(folder), **result.summary())
    print(result.describe())
    print("Export (this pupil's records only; contains personal data - send it securely, then delete it):")
    for p in written:
        print(f"  {p}")
    return 0


def cmd_erase(args) -> int:
    from expectations.reports import quarantine_reports
    from ingest import erasure, processing_log

    settings = get_settings()
    bad = _invalid_upns(args.upn)
    if bad:
        return bad
    if not args.yes:
        print(f"Erase every record of {', '.join(args.upn)} from the archive, quarantine, inbox and warehouse? "
              "This cannot be undone. Type the first UPN again to go ahead: ", end="", flush=True)
        if sys.stdin.readline().strip().upper() != args.upn[0].strip().upper():
            print("Not erased.")
            return 1
    with processing_log.logged(settings.data_dir, "erasure", {"reference": args.reference}) as log:
        result = erasure.erase(settings, args.upn, args.reference, reports=quarantine_reports, progress=_steps)
        log.update(pupil_keys=result.pupil_keys, operation_id=result.operation_id, **result.counts())
        if settings.engine == "spark":
            # the raw Parquet files Spark reads are copies of the warehouse's rows: they follow the
            # erasure now, not at the next refresh (Spark's pupil-level tables follow at the rebuild below)
            from engine import lake

            lake.sync(settings)
    print(result.describe())
    if not args.no_refresh:
        print("Rebuilding the marts without the pupil, and publishing ...")
        if not run_refresh(settings, tags={"pathways/trigger": "erasure"}):
            print("The erasure stands; the rebuild failed (see above). Run `pathways refresh` once it is fixed.", file=sys.stderr)
            return 1
    return 0


def cmd_processing_log(args) -> int:
    from ingest import processing_log

    settings = get_settings()
    if args.verify:
        problems = processing_log.verify(settings.data_dir)
        print("\n".join(problems) if problems else f"The log is whole: {len(processing_log.read(settings.data_dir))} entries, "
              "each following the one before.")
        return 1 if problems else 0
    entries = [e for e in processing_log.read(settings.data_dir)
               if (not args.action or e["action"] == args.action) and (not args.since or e["at"] >= args.since)]
    for e in entries[-args.limit:]:
        details = ", ".join(f"{k}={v}" for k, v in (e.get("details") or {}).items() if not isinstance(v, list | dict))
        print(f"{e['at'][:19]}  {e['actor']:<12} {e['action']:<17} {e['outcome']:<9} {details[:160]}")
    if not entries:
        print(f"No entries in {processing_log.log_path(settings.data_dir)}.")
    return 0



@app.command()
def retention(apply: bool = typer.Option(False, "--apply", help="delete it (all or nothing), then rebuild and publish"),
              years: int | None = typer.Option(None, help="one period for every pupil-level source instead of the settings"),
              as_of: str | None = typer.Option(None, "--as-of", help="the date to judge by (YYYY-MM-DD; default today)"),
              no_refresh: bool = typer.Option(False, "--no-refresh", help="after --apply, do not rebuild and publish"),
              as_json: bool = typer.Option(False, "--json", help="the dry run as JSON")) -> int:
    """What is past its retention period (dry run); --apply deletes it."""
    return cmd_retention(SimpleNamespace(apply=apply, years=years, as_of=as_of, no_refresh=no_refresh, json=as_json))


@app.command("subject-access")
def subject_access(upn: list[str] = typer.Argument(..., help="the pupil's UPN (and any earlier one, e.g. a temporary UPN)"),
                   output: str | None = typer.Option(None, help="folder for the export (default data/subject_access/<time>-<pseudonym>)"),
                   reference: str | None = typer.Option(None, help="the request's case reference, for the processing log")) -> int:
    """Every record held about one pupil, exported for the data protection officer."""
    return cmd_subject_access(SimpleNamespace(upn=upn, output=output, reference=reference))


@app.command()
def erase(upn: list[str] = typer.Argument(..., help="the pupil's UPN (and any earlier one)"),
          reference: str | None = typer.Option(None, help="the officer's decision or case reference, kept with the erasure record"),
          yes: bool = typer.Option(False, "--yes", help="do not ask for confirmation"),
          no_refresh: bool = typer.Option(False, "--no-refresh", help="do not rebuild and publish afterwards")) -> int:
    """Remove one pupil from the archive, quarantine, inbox and warehouse, and keep them out."""
    return cmd_erase(SimpleNamespace(upn=upn, reference=reference, yes=yes, no_refresh=no_refresh))


@app.command("processing-log")
def processing_log_command(
        action: str | None = typer.Option(None, help="only this action (refresh, ingest, publish, validate, subject_access, erasure, ...)"),
        since: str | None = typer.Option(None, help="only entries from this date or time (ISO, UTC)"),
        limit: int = typer.Option(50),
        verify: bool = typer.Option(False, "--verify", help="check no entry was removed or edited")) -> int:
    """Who ran which refresh, validation, export, retention or erasure, and when."""
    return cmd_processing_log(SimpleNamespace(action=action, since=since, limit=limit, verify=verify))


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit code (tests call ``main([...])``)."""
    command = typer.main.get_command(app)
    try:
        rv = command.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="pathways", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.Abort:
        print("Stopped.", file=sys.stderr)
        return 130
    except click.ClickException as e:
        e.show()
        return e.exit_code
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
