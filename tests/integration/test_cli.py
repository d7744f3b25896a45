"""The `pathways` command as a new user meets it: real runs of the command (another process, the
settings in its environment) on the session's refreshed small borough.

Nothing new stops before any run starts; a quarantined file is one plain sentence with its report;
`status` lines agree with each other and with `--json`; `query` reads the publication and nothing
else; every command the README's marked block and the demo's closing lines print runs as written.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY, make_settings

ROOT = Path(__file__).resolve().parents[2]


def _env(settings) -> dict[str, str]:
    return {**os.environ, "PATHWAYS_DATA_DIR": str(settings.data_dir), "PATHWAYS_WAREHOUSE_PATH": str(settings.warehouse),
            "PATHWAYS_DAGSTER_HOME": str(settings.dagster_home), "PATHWAYS_PSEUDONYMISATION_KEY": TEST_KEY,
            "PATHWAYS_INBOX_SETTLE_SECONDS": "0", "COLUMNS": "200"}


def _pathways(settings, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pathways.cli", *args], cwd=ROOT, env=_env(settings),
                          capture_output=True, text=True, timeout=timeout)


def _runs(settings) -> int:
    from pathways.cli import dagster_instance

    with dagster_instance(settings) as instance:
        return len(instance.get_run_records())


def _plain(proc: subprocess.CompletedProcess) -> None:
    """An expected outcome is said in sentences, never as a traceback."""
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_a_refresh_with_nothing_new_says_so_and_starts_no_run(refreshed):
    runs = _runs(refreshed)
    logs = set((refreshed.data_dir / "logs").glob("*")) if (refreshed.data_dir / "logs").exists() else set()
    proc = _pathways(refreshed, "refresh")
    assert proc.returncode == 0, proc.stderr
    _plain(proc)
    assert "Nothing new in the inbox" in proc.stdout and "pathways refresh --force" in proc.stdout
    assert os.readlink(refreshed.published_dir / "current") in proc.stdout  # names the publication that stays
    as_json = json.loads(_pathways(refreshed, "refresh", "--json").stdout)
    assert as_json["nothing_new"] and as_json["published"] is False and as_json["exit_code"] == 0
    assert _runs(refreshed) == runs  # no Dagster run was started: nothing was rebuilt or republished
    assert set((refreshed.data_dir / "logs").glob("*")) == logs if logs else True


def test_status_lines_agree_with_each_other_and_with_json(refreshed):
    report = json.loads(_pathways(refreshed, "status", "--json").stdout)
    text = _pathways(refreshed, "status").stdout
    pub, last = report["publication"], report["last_refresh"]
    assert pub["id"] == os.readlink(refreshed.published_dir / "current")
    assert f"Current publication: {pub['id']}" in text
    assert last["status"] == "SUCCESS" and last["publication_id"] == pub["id"] and last["published_current"]
    assert "Last refresh: succeeded" in text and f"published {pub['id']}" in text
    blocking = [c for c in last["failing_checks"] if c["blocking"]]
    assert not blocking and "blocking check failed" not in text
    # "all N checks passed" only when none failed; each warning is listed instead
    assert ("checks passed" in text) == (not last["failing_checks"])
    assert text.count("  warning: ") == len(last["failing_checks"])


def test_query_reads_the_publication_only(refreshed):
    rows = json.loads(_pathways(refreshed, "query", "--json",
                                "SELECT count(*) AS n FROM learning_community_outcomes").stdout)
    assert rows[0]["n"] > 0
    csv = _pathways(refreshed, "query", "--csv", "SELECT DISTINCT learning_community_code FROM dim_learning_communities ORDER BY 1")
    assert csv.stdout.splitlines()[0] == "learning_community_code" and len(csv.stdout.splitlines()) == 3
    tables = _pathways(refreshed, "query", "--tables")
    assert tables.returncode == 0 and "learning_community_disadvantage_gaps" in tables.stdout
    for bad in ("SELECT nonsense FROM nowhere", "CREATE TABLE pupils AS SELECT 1 AS upn"):
        proc = _pathways(refreshed, "query", bad)
        assert proc.returncode == 1
        _plain(proc)
        assert len(proc.stderr.strip().splitlines()) <= 2, proc.stderr
    # the warehouse (pupil-level) is not reachable through it
    proc = _pathways(refreshed, "query", "SELECT count(*) FROM raw.census")
    assert proc.returncode == 1


def _readme_commands() -> list[str]:
    """The commands in the README's marked block (`<!-- commands-run-by-tests -->`), comments removed."""
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- commands-run-by-tests -->", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    block = block.replace("\\\n", " ")
    return [_strip_comment(line) for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _strip_comment(line: str) -> str:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=False)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return shlex.join(list(lexer))


def _demo_commands() -> list[str]:
    from pathways.cli import NEXT_STEPS

    return [command for command, _ in NEXT_STEPS]


def test_every_command_the_readme_and_the_demo_print_runs_as_written(refreshed, small_borough_dir):
    commands = _readme_commands() + _demo_commands()
    assert any("pathways query" in c for c in commands) and not any(c.startswith("duckdb") for c in commands)
    sample = small_borough_dir / "learning_communities.csv"
    targets = set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), flags=re.M))
    for command in commands:
        words = shlex.split(command)
        if words[0] == "make":  # long-running servers: the target exists and its recipe expands
            assert words[1] in targets, command
            assert subprocess.run(["make", "-n", *words[1:]], cwd=ROOT, capture_output=True).returncode == 0, command
            continue
        assert words[0] == ".venv/bin/pathways", command
        assert (ROOT / words[0]).exists()
        args = [str(sample) if w == "FILE" else w for w in words[1:]]
        proc = _pathways(refreshed, *args)
        _plain(proc)
        if "ID" in args:  # a placeholder upload id: refused in one sentence
            assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        else:
            assert proc.returncode == 0, (command, proc.stdout[-1000:], proc.stderr[-1000:])


@pytest.fixture(scope="module")
def quarantined(refreshed, small_borough_dir, tmp_path_factory):
    """A copy of the refreshed borough, then one attendance file with a broken UPN and `pathways refresh --incremental`."""
    root = tmp_path_factory.mktemp("cli_quarantine") / "root"
    shutil.copytree(refreshed.data_dir.parent, root, symlinks=True)
    settings = make_settings(root)
    source = sorted(small_borough_dir.glob("attendance_*.csv"))[-1]
    lines = source.read_text().splitlines()
    row = lines[3].split(",")
    row[0] = "NOTAUPN0000"
    lines[3] = ",".join(row)
    bad = settings.inbox_dir / f"resent_{source.name}"
    bad.write_text("\n".join(lines) + "\n")
    return settings, bad, _pathways(settings, "refresh", "--incremental")


def test_a_quarantined_file_is_one_plain_sentence_with_its_report(quarantined):
    settings, bad, proc = quarantined
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    _plain(proc)
    said = [line for line in proc.stdout.splitlines() if bad.name in line]
    assert len(said) == 1, proc.stdout
    sentence = said[0]
    assert f"{bad.name} was quarantined" in sentence and "UPN" in sentence and "row 4" in sentence
    report = Path(sentence.split("Report: ")[1].strip())
    assert report.exists() and bad.name in report.read_text()
    # short: stages, sentences, the log's path last; the full log (Dagster's events) is in the file
    assert len(proc.stdout.strip().splitlines()) < 20, proc.stdout
    log = Path(proc.stdout.strip().splitlines()[-1].removeprefix("Full log: "))
    assert log.exists() and "STEP_START" in log.read_text() and "STEP_START" not in proc.stdout
    assert "quarantined" in proc.stdout.split(bad.name)[0]  # the inbox stage counted it before the sentence


def test_status_after_a_quarantine_agrees_with_itself(quarantined):
    settings, bad, _ = quarantined
    report = json.loads(_pathways(settings, "status", "--json").stdout)
    text = _pathways(settings, "status").stdout
    assert [q["file"] for q in report["quarantined"]] == [bad.name]
    assert "Quarantine: 1 upload(s)" in text and bad.name in text
    last = report["last_refresh"]
    # the refresh succeeded (a quarantine is a warning): the lines say so, and name the warning
    assert last["status"] == "SUCCESS" and "Last refresh: succeeded" in text
    assert any(c["check"] == "uploads_accepted" and not c["blocking"] for c in last["failing_checks"])
    assert "every check passed" not in text and "checks passed" not in text


def test_validate_json_parses(quarantined):
    settings, bad, _ = quarantined
    archived = next(settings.quarantine_dir.rglob(bad.name))
    proc = _pathways(settings, "validate", str(archived), "--json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["summary"]["errors"] >= 1 if "summary" in report else report["errors"] >= 1


def test_the_dagster_ui_links_the_quarantine_report_and_names_the_check(quarantined):
    import dagster as dg

    from pathways.cli import dagster_instance

    settings, bad, _ = quarantined
    with dagster_instance(settings) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["raw", "attendance"]))
    meta = event.asset_materialization.metadata
    report = meta[f"report: {bad.name}"]
    assert isinstance(report, dg.PathMetadataValue) and Path(report.path).name == "report.txt" and Path(report.path).exists()
    assert meta["failed_check"].text.startswith("uploads_accepted (") and "upn" in meta["failed_check"].text



def test_the_demo_summary_reads_typed_figures_and_shows_withheld_ones_by_their_symbol(refreshed):
    """The table `make demo` ends with: a row per community and the borough, each figure a number
    or the symbol the publication gives it (a withheld figure is NULL with its symbol beside it)."""
    import duckdb

    from pathways.cli import summary

    text = summary(refreshed)
    with duckdb.connect(str(refreshed.current_publication), read_only=True) as con:
        names = [n for (n,) in con.execute("SELECT learning_community_name FROM dim_learning_communities").fetchall()]
    rows = [line for line in text.splitlines() if any(line.startswith(n[:34]) for n in names) or "(borough)" in line]
    assert len(rows) == len(names) + 1, text
    for line in rows:
        figures = line[34:].split()
        assert len(figures) == 4 and "None" not in figures, line
        for f in figures:
            assert f in ("c", "z", "x") or float(f) == float(f), line
