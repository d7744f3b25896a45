"""What a long command shows while it works: a few stages, each with its counts and elapsed time
(a progress bar where the stage's size is known), while the full log goes to a file.

A refresh's full log (Dagster's event lines, dbt's per-node lines, anything a library prints) is
written to ``<data_dir>/logs/<command>-<time>.log``; the terminal shows it only with ``--verbose``.
``RunDisplay`` is given to Dagster as a logger (``logger_def``): every event of the run reaches it,
and it turns the events into stage lines.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

STAGES = {
    "generate": "Demo borough",
    "ingest": "Inbox",
    "warehouse": "Warehouse (dbt)",
    "checks": "Mart checks",
    "publish": "Publication",
}


def log_file(data_dir: Path, command: str) -> Path:
    folder = Path(data_dir) / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{command}-{datetime.now().strftime('%Y%m%d-%H%M%S')}.log"


def stage_of(step_key: str) -> str:
    """Which stage a Dagster step belongs to (the step keys are the asset functions' names)."""
    key = step_key.lower()
    if key.startswith(("raw__", "inbox__")) or "unrecognised" in key:
        return "ingest"
    if "publish" in key or "publication" in key:
        return "publish"
    if key.endswith("_checks") or "check" in key:
        return "checks"
    return "warehouse"


@dataclass
class StageState:
    name: str
    started: float = field(default_factory=time.perf_counter)
    counts: Counter = field(default_factory=Counter)
    failed: bool = False
    note: str = ""


class RunDisplay:
    """Stage lines on the terminal (stdout), everything in the log file.

    Used as a context manager around the work: unless ``verbose``, whatever is written to the
    process's stdout and stderr meanwhile (including child processes such as dbt) goes to the
    log file, so the terminal shows the stages only."""

    def __init__(self, log_path: Path, verbose: bool = False, console: Console | None = None,
                 totals: dict[str, int] | None = None, quiet: bool = False):
        self.log_path = log_path
        self.verbose = verbose
        self.quiet = quiet  # --json: no stage lines at all
        self.totals = totals or {}
        self._console = console
        self._saved: dict[int, int] = {}
        self._own = None  # our copy of the terminal's stderr, closed at the end
        self._log = None
        self.progress: Progress | None = None
        self.stage: StageState | None = None
        self._task = None
        self.stages: list[dict] = []
        self.failed_checks: list[dict] = []
        self.step_failures: list[dict] = []
        self.t0 = time.perf_counter()

    # --- the terminal and the log file ---
    def __enter__(self) -> RunDisplay:
        self._log = open(self.log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - closed in __exit__
        if self._console is None:
            if self.verbose:
                out = sys.stdout
            else:  # the real terminal, before stdout and stderr are sent to the log
                sys.stdout.flush()
                out = self._own = os.fdopen(os.dup(sys.__stdout__.fileno()), "w", buffering=1, encoding="utf-8")
            self._console = Console(file=out, highlight=False, quiet=self.quiet)
        if not self.verbose:
            sys.stdout.flush()
            sys.stderr.flush()
            fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            for target in (1, 2):
                self._saved[target] = os.dup(target)
                os.dup2(fd, target)
            os.close(fd)
        if not self._console.is_terminal:  # a pipe or a file: the stage lines only, no live bar
            return self
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description:<18}"), BarColumn(bar_width=30),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=self._console, transient=True)
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.end_stage()
            if self.progress is not None:
                self.progress.stop()
                self.progress = None
        finally:
            self._restore()

    def _restore(self) -> None:
        if self._saved:
            for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
                try:
                    stream.flush()
                except (ValueError, OSError, AttributeError):
                    pass
            for target, saved in self._saved.items():
                os.dup2(saved, target)
                os.close(saved)
            self._saved.clear()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._own is not None:
            self._own.close()
            self._own = None
            self._console = None  # a later `with` opens the terminal again

    @property
    def console(self) -> Console:
        return self._console

    def write_log(self, text: str) -> None:
        if self._log is not None:
            self._log.write(text.rstrip("\n") + "\n")

    def message(self, text: str) -> None:
        """A line worth showing on the terminal too (e.g. the demo's generator's steps go to the log only)."""
        self.write_log(f"{time.strftime('%H:%M:%S')} {text}")

    # --- stages ---
    def begin_stage(self, name: str) -> None:
        if self.stage is not None and self.stage.name == name:
            return
        self.end_stage()
        self.stage = StageState(name)
        total = self.totals.get(name)
        if self.progress is not None:
            self._task = self.progress.add_task(STAGES.get(name, name), total=total if total else None)

    def advance(self, n: int = 1) -> None:
        if self.progress is not None and self._task is not None:
            self.progress.advance(self._task, n)

    def end_stage(self, note: str | None = None) -> None:
        s = self.stage
        if s is None:
            return
        if note:
            s.note = note
        seconds = time.perf_counter() - s.started
        if self.progress is not None and self._task is not None:
            self.progress.remove_task(self._task)
            self._task = None
        text = s.note or self._describe(s)
        mark = "[red]✗[/red]" if s.failed else "[green]✓[/green]"
        self.console.print(f"  {mark} {STAGES.get(s.name, s.name):<17} {text}  [dim]{seconds:.0f} s[/dim]")
        self.stages.append({"stage": s.name, "seconds": round(seconds, 1), "failed": s.failed, "summary": text,
                            **{k: v for k, v in s.counts.items()}})
        self.stage = None

    @staticmethod
    def _describe(s: StageState) -> str:
        c = s.counts
        if s.name == "ingest":
            parts = [f"{c[k]} {label}" for k, label in (("loaded", "loaded"), ("duplicates", "already loaded"),
                                                         ("quarantined", "quarantined"), ("held", "held")) if c[k]]
            files = c["loaded"] + c["duplicates"] + c["quarantined"] + c["held"]
            return (f"{files} file(s) taken: " + ", ".join(parts) + f"; {c['rows']:,} rows") if files else "no new files"
        if s.name == "warehouse":
            return f"{c['built']} models and seeds built" + (f"; tests: {_checks(c)}" if sum(_check_counts(c)) else "")
        if s.name == "checks":
            return _checks(c)
        if s.name == "publish":
            return "published" if c["built"] else "not published"
        return ""

    # --- Dagster events (through the logger below) ---
    def on_event(self, step_key: str | None, event) -> None:
        import dagster as dg

        kind = event.event_type
        if kind == dg.DagsterEventType.STEP_START and step_key:
            self.begin_stage(stage_of(step_key))
            return
        if self.stage is None and step_key:
            self.begin_stage(stage_of(step_key))
        s = self.stage
        if s is None:
            return
        if kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            meta = event.event_specific_data.materialization.metadata
            if s.name == "ingest":
                counts = {k: _int(meta.get(m)) for k, m in (("loaded", "files_loaded"), ("duplicates", "duplicates_skipped"),
                                                             ("quarantined", "files_quarantined"), ("held", "files_held"),
                                                             ("rows", "rows_loaded"))}
                s.counts.update(counts)
                self.advance(counts["loaded"] + counts["duplicates"] + counts["quarantined"] + counts["held"])
            else:
                s.counts["built"] += 1
                self.advance()
                if s.name == "publish" and meta.get("publication_id") is not None:
                    s.note = f"published {_value(meta['publication_id'])}"
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            ev = event.event_specific_data
            blocking = ev.severity == dg.AssetCheckSeverity.ERROR
            s.counts["checks_passed" if ev.passed else "checks_failed" if blocking else "checks_warning"] += 1
            if not ev.passed:
                self.failed_checks.append({"asset": ev.asset_key.to_user_string(), "check": ev.check_name,
                                           "blocking": blocking, "description": str(ev.description or "")})
                if blocking:
                    s.failed = True
        elif kind == dg.DagsterEventType.STEP_FAILURE:
            s.failed = True
            data = event.step_failure_data
            desc = data.user_failure_data.description if data.user_failure_data else None
            self.step_failures.append({"step": step_key, "stage": s.name,
                                       "reason": desc or (data.error.message.strip() if data.error else "failed")})

    def logger_def(self):
        """A Dagster logger writing every record of the run to the log file and feeding its events to the stages."""
        import dagster as dg

        display = self

        class _Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                try:
                    display.write_log(f"{time.strftime('%H:%M:%S')} {record.levelname:<7} {record.getMessage()}")
                    meta = getattr(record, "dagster_meta", None) or {}
                    event = meta.get("dagster_event")
                    if event is not None:
                        display.on_event(meta.get("step_key"), event)
                except Exception:  # noqa: BLE001 - a display problem must never fail a refresh
                    self.handleError(record)

        @dg.logger(description="Pathways: the run's full log to data/logs, its stages to the terminal")
        def pathways_log(_init_context):
            lg = logging.Logger("pathways.run", level=logging.DEBUG)
            lg.addHandler(_Handler())
            return lg

        return pathways_log


def _check_counts(c: Counter) -> tuple[int, int, int]:
    return c["checks_passed"], c["checks_warning"], c["checks_failed"]


def _checks(c: Counter) -> str:
    passed, warning, failed = _check_counts(c)
    return ", ".join([f"{passed} passed"] + ([f"{warning} warning(s)"] if warning else [])
                     + ([f"{failed} FAILED (blocking)"] if failed else []))


def _value(v):
    return getattr(v, "value", v)


def _int(v) -> int:
    try:
        return int(_value(v) or 0)
    except (TypeError, ValueError):
        return 0
