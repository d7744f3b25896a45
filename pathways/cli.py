"""The ``pathways`` command: demo, refresh, validate, status, confirm, generate, ui, dbt, serve, users; and
for data protection: retention, subject-access, erase, processing-log.

Runs go through a real Dagster instance (``DAGSTER_HOME``, local storage by default), so a
refresh started here shows in the Dagster UI like one started there. The work of ``refresh``,
``status``, ``validate`` and ``confirm`` is done by functions that return what happened
(``refresh()``, ``intake_status()``, ``validate_file()``, ``confirm()``); the ``cmd_*`` functions
only print it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from config.labels import DISADVANTAGED, NOT_DISADVANTAGED, TOTAL
from config.settings import PROJECT_ROOT, Settings, get_settings


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


EXIT_REFRESH_RUNNING = 75  # sysexits EX_TEMPFAIL: try again later


def run_refresh(settings: Settings, tags: dict | None = None, incremental: bool = False, wait: float = 0) -> bool:
    """Materialise the refresh job in this process against the Dagster instance. True on success.

    ``incremental``: only the sources with files waiting in the inbox, and what depends on them.
    One refresh at a time: raises ``ingest.lock.RefreshRunning`` when another is running (after
    waiting up to ``wait`` seconds for it). Who ran it and how it ended go to the processing log."""
    from ingest.lock import refresh_lock
    from ingest.processing_log import logged

    trigger = f"pathways {(tags or {}).get('pathways/trigger', 'refresh')}"
    details = {"trigger": (tags or {}).get("pathways/trigger", "cli"), "incremental": incremental}
    with refresh_lock(settings, wait=wait, trigger=trigger), logged(settings.data_dir, "refresh", details) as outcome:
        ok = _run_refresh(settings, tags, incremental)
        outcome["outcome"] = "succeeded" if ok else "failed"
    return ok


def _run_refresh(settings: Settings, tags: dict | None, incremental: bool) -> bool:
    import dagster as dg

    from orchestration.definitions import build_definitions
    from orchestration.defs.automation import selection_for_inbox

    defs = build_definitions(settings)
    job = defs.resolve_job_def("refresh")
    selection = selection_for_inbox(defs, settings) if incremental else None
    with dagster_instance(settings) as instance:
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, tags=tags or {}, asset_selection=selection,
            run_config={"loggers": {"console": {"config": {"log_level": settings.log_level}}}},
        )
        failed_checks = [ev.event_specific_data for ev in result.all_events
                         if ev.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION and not ev.event_specific_data.passed]
        for check in failed_checks:
            level = "BLOCKING" if check.severity == dg.AssetCheckSeverity.ERROR else "warning"
            print(f"check {level}: {check.asset_key.to_user_string()} / {check.check_name}: {check.description or 'failed'}",
                  file=sys.stderr)
        published = any(ev.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
                        and ev.asset_key == dg.AssetKey(["published", "pathways"]) for ev in result.all_events)
        if not result.success or not published:
            print("\nNothing was published; the last good publication (if any) is unchanged.", file=sys.stderr)
            for ev in result.all_events:
                if ev.is_step_failure:
                    err = ev.step_failure_data.error
                    desc = ev.step_failure_data.user_failure_data.description if ev.step_failure_data.user_failure_data else None
                    print(f"- step {ev.step_key}: {_first_lines(desc or (err.message if err else 'failed'))}", file=sys.stderr)
        return result.success and published


def _first_lines(text: str, n: int = 12) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n    ".join(lines[:n]) + ("\n    ..." if len(lines) > n else "")


def cmd_demo(args) -> int:
    settings = get_settings()
    t0 = time.perf_counter()
    marker = settings.data_dir / "demo_borough.json"
    if args.fresh and settings.data_dir.exists():
        _progress(f"removing {settings.data_dir} for a fresh demo")
        _wipe(settings.data_dir)
    if not marker.exists():
        from synthetic import BoroughSpec, generate, small_borough
        from synthetic.files import write_manifest

        spec = small_borough() if args.size == "small" else BoroughSpec(seed=settings.demo_seed)
        print(f"Generating the demo borough ({args.size}) into {settings.inbox_dir} ...")
        manifest = generate(spec, settings.inbox_dir, progress=_progress)
        write_manifest(manifest, marker)
        _progress(f"generated {len(manifest['files'])} files in {manifest['seconds']} s")
        # written whole by this process a moment ago: nothing to wait for before taking them
        settings = settings.model_copy(update={"inbox_settle_seconds": 0})
    else:
        _progress(f"demo borough already generated ({marker.name}); refreshing")
    print("Running the refresh job (ingest -> dbt -> checks -> publish) ...")
    outcome = refresh(settings, tags={"pathways/trigger": "demo"})
    _print_intake(outcome)
    if outcome.running is not None:
        print(f"\n{outcome.running}", file=sys.stderr)
        return EXIT_REFRESH_RUNNING
    if not outcome.published:
        return 1
    print(summary(settings))
    print(f"\nDone in {time.perf_counter() - t0:.0f} s.")
    print(_next_steps(settings))
    return 0


def _wipe(data_dir: Path) -> None:
    for p in data_dir.rglob("*"):
        if p.is_file() and not p.is_symlink():
            os.chmod(p, 0o644)
    shutil.rmtree(data_dir)


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
                   p.denominator AS pupils, g.disadvantaged_value, g.other_value, g.gap,
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
    out = [f"\nKS2 reading, writing and maths at the expected standard, {label} (publication {_current_id(settings)})",
           "'c' = withheld (small numbers). Gap = other minus disadvantaged, percentage points.",
           "On roll = pupils on roll at all ages that year (the KS2 percentages are of the KS2 cohort).\n",
           f"{'Learning community':<34} {'On roll':>7} {'Disadv. %':>10} {'Other %':>8} {'Gap':>6}",
           "-" * 69]
    for code, name, pupils, dis, oth, gap, _dis_n, _oth_n in rows:
        if code == "ALL":
            out.append("-" * 69)
        out.append(f"{(name or code)[:34]:<34} {pupils or '':>7} {dis:>10} {oth:>8} {gap:>6}")
    if nat[0] is not None:
        out.append(f"{'England (national benchmark)':<34} {'':>7} {nat[0]:>10} {nat[1]:>8} {nat[1] - nat[0]:>6}")
    return "\n".join(out)


def _current_id(settings: Settings) -> str:
    link = settings.published_dir / "current"
    return os.readlink(link) if link.is_symlink() else "none"


def _next_steps(settings: Settings) -> str:
    db = settings.current_publication
    return (
        "\nNext:\n"
        "  make ui                      # Dagster UI on http://127.0.0.1:3000 (runs, assets, checks, schedules)\n"
        "  make serve                   # the scorecard on http://127.0.0.1:8000, with demo sign-ins\n"
        f"  duckdb -readonly {db}\n"
        "      SELECT * FROM learning_community_disadvantage_gaps WHERE measure = 'ks2_rwm_expected';\n"
        "  or in Python: duckdb.connect('data/published/current/pathways.duckdb', read_only=True)\n"
        f"  extracts per learning community: {db.parent / 'by_learning_community'}/"
    )


@dataclass
class RefreshOutcome:
    """What one refresh did: published or not, and what became of each file it took."""

    published: bool
    started_at: str
    fates: list[dict] = field(default_factory=list)       # the intake log's entries for this refresh
    left_in_inbox: list = field(default_factory=list)      # ingest.status.FileStatus: arriving or ignored
    running: str | None = None                             # set when another refresh was running instead


def refresh(settings: Settings, wait: float = 0, incremental: bool = False, tags: dict | None = None) -> RefreshOutcome:
    """Run one refresh (or find one running) and return what it did."""
    from ingest import ledger
    from ingest.lock import RefreshRunning
    from ingest.status import intake_status

    started = datetime.now().astimezone().isoformat(timespec="seconds")
    try:
        ok = run_refresh(settings, tags=tags or {"pathways/trigger": "cli"}, incremental=incremental, wait=wait)
    except RefreshRunning as e:
        return RefreshOutcome(False, started, running=str(e))
    status = intake_status(settings)
    return RefreshOutcome(ok, started, ledger.entries(settings, since=started),
                          [f for f in status.inbox if f.state != "waiting"])


def _print_intake(outcome: RefreshOutcome) -> None:
    if outcome.running:
        return
    counts: dict[str, int] = {}
    for e in outcome.fates:
        counts[e["fate"]] = counts.get(e["fate"], 0) + 1
    for f in outcome.left_in_inbox:
        counts[f.state] = counts.get(f.state, 0) + 1
    if not counts:
        print("\nIntake: no new files.")
        return
    order = ["loaded", "duplicate", "quarantined", "held", "arriving", "ignored"]
    print("\nIntake: " + ", ".join(f"{counts[k]} {k}" for k in order if counts.get(k)))
    for e in outcome.fates:
        if e["fate"] in ("quarantined", "held"):
            report = f" (report: {e['where']}/report.txt)" if e.get("where") else ""
            print(f"  {e['fate']:<12} {e['file']}: {e['reason']}{report}"
                  + (f"\n  {'':<12} to load it anyway: pathways confirm {e['upload_id']}" if e["fate"] == "held" else ""))
    for f in outcome.left_in_inbox:
        print(f"  {f.state:<12} {f.file}: {f.reason}")


def cmd_refresh(args) -> int:
    settings = get_settings()
    outcome = refresh(settings, wait=args.wait if args.wait is not None else 0, incremental=args.incremental)
    if outcome.running:
        print(f"{outcome.running}. Wait for it (pathways refresh --wait) or see `pathways status`.", file=sys.stderr)
        return EXIT_REFRESH_RUNNING
    _print_intake(outcome)
    if outcome.published:
        print(summary(settings))
    return 0 if outcome.published else 1


def cmd_confirm(args) -> int:
    from ingest.held import NotHeld, confirm

    try:
        held = confirm(get_settings(), args.upload_id)
    except NotHeld as e:
        print(str(e), file=sys.stderr)
        return 1
    print(f"Confirmed {held.file} ({held.upload_id}): {held.reason}.\n"
          "The next refresh loads it as it is (run `pathways refresh`, or the inbox sensor starts one).")
    return 0


def cmd_generate(args) -> int:
    from synthetic import BoroughSpec, generate, small_borough

    spec = small_borough(args.seed or 7) if args.size == "small" else BoroughSpec(seed=args.seed or 372)
    manifest = generate(spec, Path(args.out), progress=_progress)
    print(json.dumps({k: v for k, v in manifest.items() if k != "files"}, indent=2))
    return 0


def cmd_status(args) -> int:
    from ingest.status import intake_status
    from publish.publication import current_manifest

    settings = get_settings()
    m = current_manifest(settings)
    if m is None:
        print("No publication yet. Run `make demo` or `pathways refresh`.")
    else:
        failing = [c for c in m.get("checks", []) if not c["passed"]]
        print(f"Current publication: {m['publication_id']} (created {m['created_at']}, code {m['code_version']})")
        print(f"  from {len(m['source_uploads'])} uploads; {m['suppression']['suppressed_cells']:,} cells withheld; "
              f"checks at publication: {len(m.get('checks', [])) - len(failing)} passed, {len(failing)} warnings")
        for u in m["source_uploads"][-5:]:
            print(f"  - {u['source_file']} ({u['source']}, {u['rows']:,} rows, sha256 {u['sha256'][:12]}…)")
    status = intake_status(settings)
    recorded = (m or {}).get("pseudonymisation_key_fingerprint")
    print(f"Pseudonymisation key: {status.key}" + (
        "" if not recorded or recorded in status.key else
        f"; NOT the key of the current publication (fingerprint {recorded}): see README, 'The pseudonymisation key'"))
    if status.refresh:
        print(f"A refresh is running now ({status.refresh}).")
    _last_run(settings)
    print(f"Inbox: {len(status.inbox)} file(s)" + (":" if status.inbox else ""))
    for f in status.inbox:
        print(f"  {f.state:<11} {f.file}: {f.reason}")
    print(f"Held for confirmation: {len(status.held)}" + (":" if status.held else ""))
    for f in status.held:
        print(f"  {f.state:<11} {f.file} ({f.upload_id}): {f.reason} (report: {f.report})")
    print(f"Quarantine: {len(status.quarantined)} upload(s)" + (":" if status.quarantined else ""))
    for f in status.quarantined[-20:]:
        print(f"  quarantined {f.file} ({f.source}): {f.reason} (report: {f.report})")
    if status.taken:
        recent = status.taken[-10:]
        print(f"Taken from the inbox lately (last {len(recent)} of the intake log, {settings.intake_log}):")
        for f in recent:
            print(f"  {f.state:<11} {f.file} at {f.at}: {f.reason}")
    _data_protection_status(settings)
    return 0


def _last_run(settings: Settings) -> None:
    """The latest refresh in the Dagster instance, and any check that failed in it."""
    import dagster as dg

    with dagster_instance(settings) as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(job_name="refresh"), limit=1)
        if not runs:
            print("Last refresh: none recorded in this Dagster instance")
            return
        run = runs[0]
        print(f"Last refresh: {run.status.value} (run {run.run_id[:8]})")
        records = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
        failing = [r.event_log_entry.dagster_event.event_specific_data for r in records]
        failing = [e for e in failing if not e.passed]
        for e in failing:
            level = "BLOCKING" if e.severity == dg.AssetCheckSeverity.ERROR else "warning"
            print(f"  failing check ({level}): {e.asset_key.to_user_string()} / {e.check_name}: {e.description or ''}")
        if not failing:
            print("  every check passed")


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


def cmd_validate(args) -> int:
    """Exit 0 valid (warnings allowed), 1 has errors, 2 unreadable."""
    from expectations.reports import as_html, as_json, as_text

    render = {"text": as_text, "json": as_json, "html": as_html}[args.format]
    outcome = validate_file(get_settings(), Path(args.file), args.source, args.sheet)
    if outcome.note:
        print(f"note: {outcome.note}", file=sys.stderr)
    _emit(render(outcome.summary, outcome.findings), args.output)
    from ingest.archive import sha256_file
    from ingest.processing_log import record

    record(get_settings().data_dir, "validate", "done",
           {"file": Path(args.file).name, "sha256": sha256_file(Path(args.file)) if Path(args.file).is_file() else None,
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


def cmd_ui(args) -> int:
    import subprocess

    home = _dagster_home(get_settings())
    env = {**os.environ, "DAGSTER_HOME": str(home)}  # the child's environment only
    cmd = [str(Path(sys.executable).parent / "dagster"), "dev", "-m", "orchestration.definitions",
           "-h", "127.0.0.1", "-p", str(args.port)]
    print(f"Dagster UI on http://127.0.0.1:{args.port} (DAGSTER_HOME={home}); Ctrl-C to stop.")
    return subprocess.call(cmd, env=env, cwd=PROJECT_ROOT)


def cmd_dbt(args) -> int:
    """Any dbt command, with the settings passed as vars exactly as a refresh passes them."""
    import subprocess

    from ingest.processing_log import record
    from orchestration.dbt_args import DBT_PROJECT_DIR, dbt_args

    settings = get_settings()
    dbt = Path(sys.executable).parent / "dbt"
    extra = [a for a in args.dbt_args if a != "--"]
    words = [args.dbt_command]
    while extra and not extra[0].startswith("-"):  # docs generate, source freshness
        words.append(extra.pop(0))
    code = subprocess.call([str(dbt), *dbt_args(" ".join(words), settings, *extra), "--profiles-dir", "."],
                           cwd=DBT_PROJECT_DIR)
    if words[0] not in ("parse", "compile", "ls", "list", "deps", "clean", "debug"):  # these read no data
        # who ran what against the warehouse by hand (dbt show, --store-failures read pupil-level rows)
        record(settings.data_dir, "dbt", "succeeded" if code == 0 else "failed", {"command": " ".join(words + extra)})
    return code


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


def _data_protection_status(settings: Settings) -> None:
    """One line for `status`: what is past its retention period, the last purge, erasures, an interrupted operation."""
    from ingest import journal, pupil_records, retention

    if journal.pending(settings.data_dir):
        print("Data protection: a purge or erasure was interrupted; the next refresh, purge or erasure finishes or undoes it")
    try:
        con = _read_only_warehouse(settings)
    except SystemExit:
        return
    if con is None:
        return
    with con:
        plan = retention.make_plan(settings, con)
        purges = retention.purges_since(con, None)
        erased = len(pupil_records.erased(con))
    print(f"Data protection: {sum(plan.raw_rows.values()):,} raw rows and {len(plan.uploads) + len(plan.quarantined)} files "
          f"past their retention period{' (`pathways retention` lists them)' if not plan.empty else ''}; "
          + (f"last purge {purges[-1]['committed_at'][:16]}; " if purges else "no purge yet; ")
          + f"{erased} pupil(s) erased")


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


def _data_protection_commands(sub) -> None:
    r = sub.add_parser("retention", help="what is past its retention period (dry run); --apply deletes it")
    r.add_argument("--apply", action="store_true", help="delete it (all or nothing), then rebuild and publish")
    r.add_argument("--years", type=int, help="one period for every pupil-level source instead of the settings")
    r.add_argument("--as-of", help="the date to judge by (YYYY-MM-DD; default today; never in the future)")
    r.add_argument("--no-refresh", action="store_true", help="after --apply, do not rebuild and publish")
    r.add_argument("--json", action="store_true", help="the dry run as JSON")
    r.set_defaults(fn=cmd_retention)
    s = sub.add_parser("subject-access", help="every record held about one pupil, exported for the data protection officer")
    s.add_argument("upn", nargs="+", help="the pupil's UPN (and any earlier one, e.g. a temporary UPN)")
    s.add_argument("--output", help="folder for the export (default data/subject_access/<time>-<pseudonym>)")
    s.add_argument("--reference", help="the request's case reference, for the processing log")
    s.set_defaults(fn=cmd_subject_access)
    e = sub.add_parser("erase", help="remove one pupil from the archive, quarantine, inbox and warehouse, and keep them out")
    e.add_argument("upn", nargs="+", help="the pupil's UPN (and any earlier one)")
    e.add_argument("--reference", help="the officer's decision or case reference, kept with the erasure record")
    e.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    e.add_argument("--no-refresh", action="store_true", help="do not rebuild and publish afterwards")
    e.set_defaults(fn=cmd_erase)
    g = sub.add_parser("processing-log", help="who ran which refresh, validation, export, retention or erasure, and when")
    g.add_argument("--action", help="only this action (refresh, ingest, publish, validate, subject_access, erasure, ...)")
    g.add_argument("--since", help="only entries from this date or time (ISO, UTC)")
    g.add_argument("--limit", type=int, default=50)
    g.add_argument("--verify", action="store_true", help="check no entry was removed or edited")
    g.set_defaults(fn=cmd_processing_log)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="pathways", description="Pathways: 0-19 outcomes and disadvantage gaps per learning community.")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="generate the demo borough (first time) and run the whole pipeline")
    d.add_argument("--size", choices=["default", "small"], default="default")
    d.add_argument("--fresh", action="store_true", help="wipe data/ and start again")
    d.set_defaults(fn=cmd_demo)
    r = sub.add_parser("refresh", help="ingest the inbox, rebuild, check and publish")
    r.add_argument("--incremental", action="store_true",
                   help="rebuild only what depends on the sources of the files waiting in the inbox")
    r.add_argument("--wait", type=float, nargs="?", const=24 * 3600, default=None, metavar="SECONDS",
                   help="if a refresh is running, wait for it (up to SECONDS) instead of exiting at once")
    r.set_defaults(fn=cmd_refresh)
    sub.add_parser("status", help="the current publication, every inbox file's state, held and quarantined uploads"
                   ).set_defaults(fn=cmd_status)
    c = sub.add_parser("confirm", help="load a held upload as it is, at the next refresh (pathways confirm <upload-id>)")
    c.add_argument("upload_id")
    c.set_defaults(fn=cmd_confirm)
    v = sub.add_parser("validate", help="check an upload before it is loaded")
    v.add_argument("file")
    v.add_argument("--source", choices=["census", "attainment", "attendance", "pupil-premium", "schools", "learning-communities",
                                          "school-links", "community-membership"])
    v.add_argument("--sheet")
    v.add_argument("--format", choices=["text", "json", "html"], default="text")
    v.add_argument("--output", help="write the report to this file instead of the terminal")
    v.set_defaults(fn=cmd_validate)
    g = sub.add_parser("generate", help="write a synthetic borough's files to a folder")
    g.add_argument("out")
    g.add_argument("--size", choices=["default", "small"], default="default")
    g.add_argument("--seed", type=int)
    g.set_defaults(fn=cmd_generate)
    u = sub.add_parser("ui", help="Dagster UI and daemon on 127.0.0.1")
    u.add_argument("--port", type=int, default=3000)
    u.set_defaults(fn=cmd_ui)
    t = sub.add_parser("dbt", help="run a dbt command with the Pathways settings (e.g. pathways dbt test -s marts)")
    t.add_argument("dbt_command")
    t.add_argument("dbt_args", nargs=argparse.REMAINDER)
    t.set_defaults(fn=cmd_dbt)
    from scorecard.commands import add_commands  # serve (the scorecard) and users (its accounts)

    add_commands(sub)
    _data_protection_commands(sub)
    args = p.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
