"""The intake's promises: only complete files are taken, every file meets its own fate, a load
removes only what it covers (or is held until confirmed), one key per warehouse, one refresh at
a time, and every inbox file accounted for. Real files, a real DuckDB warehouse, real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from config.settings import fingerprint
from expectations.context import intake_checks
from ingest.held import confirm, held_uploads
from ingest.inbox import IntakeChecks, process_inbox, scan_inbox
from ingest.keys import KeyProblem
from ingest.lock import RefreshRunning, refresh_lock, running_refresh
from ingest.status import intake_status
from tests.conftest import copy_into_inbox, make_settings

ROOT = Path(__file__).resolve().parents[3]
CENSUS = "school_census_2023-24_autumn.csv"


def _count(settings, sql: str):
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()[0][0]


def _reference(settings, small_borough_dir):
    copy_into_inbox([small_borough_dir / "schools.csv", small_borough_dir / "learning_communities.csv"], settings)
    result = process_inbox(settings, intake_checks(), None)
    assert sorted(r.file for r in result.loaded) == ["learning_communities.csv", "schools.csv"]


# ---------------------------------------------------------------------------------------------
# only complete files; every file accounted for

def test_files_still_arriving_or_set_aside_are_not_taken_and_status_says_why(tmp_path, small_borough_dir):
    settings = make_settings(tmp_path, inbox_settle_seconds=30)
    settings.inbox_dir.mkdir(parents=True)
    copy_into_inbox([small_borough_dir / "schools.csv"], settings)
    for name in (".DS_Store", "_notes.csv", "~$schools.xlsx", "census.csv.partial", "old/_keep/census.csv"):
        (settings.inbox_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (settings.inbox_dir / name).write_text("x")
    now = time.time()
    states = {f.name: (f.state, f.reason) for f in scan_inbox(settings, now=now)}
    assert states["schools.csv"][0] == "arriving" and "still arriving" in states["schools.csv"][1]
    assert states[".DS_Store"] == ("ignored", "a hidden file (its name starts with '.')")
    assert "starts with '_'" in states["_notes.csv"][1] and "Office lock file" in states["~$schools.xlsx"][1]
    assert "unfinished download" in states["census.csv.partial"][1]
    assert "inside the folder '_keep'" in states["old/_keep/census.csv"][1]
    # unchanged for the settle interval: taken
    later = {f.name: f.state for f in scan_inbox(settings, now=now + 31)}
    assert later["schools.csv"] == "ready" and list(later.values()).count("ignored") == 5
    status = intake_status(settings, now=now + 31)
    assert {f.file: f.state for f in status.inbox} == {
        "schools.csv": "waiting", ".DS_Store": "ignored", "_notes.csv": "ignored", "~$schools.xlsx": "ignored",
        "census.csv.partial": "ignored", "old/_keep/census.csv": "ignored"}


def test_a_file_open_for_writing_is_left_in_the_inbox_while_the_rest_load(settings, small_borough_dir):
    copy_into_inbox([small_borough_dir / "schools.csv"], settings)
    data = (small_borough_dir / "learning_communities.csv").read_bytes()
    with open(settings.inbox_dir / "learning_communities.csv", "wb") as writing:  # a copy still going on
        writing.write(data[:40])
        writing.flush()
        [arriving] = [f for f in scan_inbox(settings) if f.state == "arriving"]
        assert arriving.name == "learning_communities.csv" and f"pid {os.getpid()}" in arriving.reason
        result = process_inbox(settings, intake_checks(), None)
        assert [r.file for r in result.loaded] == ["schools.csv"] and result.quarantined == []
        writing.write(data[40:])
    assert [f.name for f in scan_inbox(settings) if f.state == "ready"] == ["learning_communities.csv"]
    assert [r.file for r in process_inbox(settings, intake_checks(), None).loaded] == ["learning_communities.csv"]


# ---------------------------------------------------------------------------------------------
# every file meets its own fate

def test_a_rule_that_crashes_on_one_file_quarantines_that_file_alone(settings, small_borough_dir):
    _reference(settings, small_borough_dir)
    copy_into_inbox([small_borough_dir / "ks4_2023-24.csv", small_borough_dir / "ks1_2022-23.csv"], settings)
    real = intake_checks()

    def validate(tables, con, key):  # a rule with a bug that only the KS1 file's data reaches
        if any(t.source.stage == "ks1" for t in tables):
            raise ZeroDivisionError("division by zero in a rule")
        return real.validate(tables, con, key)

    result = process_inbox(settings, IntakeChecks(real.reports, validate), ["attainment"])
    assert [r.file for r in result.loaded] == ["ks4_2023-24.csv"]
    [(file, reason)] = result.quarantined
    assert file == "ks1_2022-23.csv" and reason.startswith("rule_crashed") and "ZeroDivisionError" in reason


def test_a_load_that_fails_quarantines_that_file_alone(settings, small_borough_dir):
    census = pl.read_csv(small_borough_dir / CENSUS, infer_schema_length=0)
    census.write_csv(settings.inbox_dir / "a_census.csv")
    # no rules at all (validate=None): a LAESTAB too big for the warehouse's column reaches the load and fails it
    census.head(5).with_columns(LAESTAB=pl.lit("99999999999")).write_csv(settings.inbox_dir / "b_census.csv")
    result = process_inbox(settings, intake_checks(validate=False), ["census"])
    assert [r.file for r in result.loaded] == ["a_census.csv"]
    [(file, reason)] = result.quarantined
    assert file == "b_census.csv" and reason.startswith("load_failed")
    assert _count(settings, "SELECT count(*) FROM raw.census") == census.height


def test_an_upload_named_like_a_report_keeps_its_own_bytes(settings):
    (settings.inbox_dir / "report.txt").write_text("hello,world\n1,2\n")
    result = process_inbox(settings, intake_checks(validate=False), [None])
    [folder] = list(settings.quarantine_dir.iterdir())
    assert result.quarantined[0][0] == "report.txt"
    assert (folder / "upload-report.txt").read_text() == "hello,world\n1,2\n"
    assert (folder / "report.txt").read_text().startswith("File:     report.txt")


# ---------------------------------------------------------------------------------------------
# loads that can only add or replace what they cover

def test_a_short_reference_file_is_held_with_what_it_would_remove_until_confirmed(settings, small_borough_dir):
    _reference(settings, small_borough_dir)
    schools = pl.read_csv(small_borough_dir / "schools.csv", infer_schema_length=0)
    schools.head(1).write_csv(settings.inbox_dir / "schools_update.csv")
    schools.head(0).write_csv(settings.inbox_dir / "schools_empty.csv")
    result = process_inbox(settings, intake_checks(), ["schools"])
    assert result.loaded == [] and [q[0] for q in result.quarantined] == ["schools_empty.csv"]
    assert result.quarantined[0][1].startswith("no_data_rows")
    [held] = result.held
    assert held.file == "schools_update.csv" and held.fate == "held"
    assert f"remove {schools.height - 1} of the {schools.height} schools" in held.reason
    assert _count(settings, "SELECT count(*) FROM raw.schools") == schools.height  # nothing removed
    report = (Path(held.where) / "report.txt").read_text()
    assert "HELD FOR CONFIRMATION" in report and schools["URN"][1] in report and schools["SchoolName"][1] in report
    status = intake_status(settings)
    assert [(f.file, f.state) for f in status.held] == [("schools_update.csv", "held")]
    assert [(f.file, f.state) for f in status.quarantined] == [("schools_empty.csv", "quarantined")]

    confirmed = confirm(settings, held.upload_id[:8])
    assert confirmed.confirmed and intake_status(settings).held[0].state == "confirmed"
    again = process_inbox(settings, intake_checks(), ["schools"])
    assert [r.file for r in again.loaded] == ["schools_update.csv"]
    assert _count(settings, "SELECT count(*) FROM raw.schools") == 1 and held_uploads(settings) == []
    assert [f.state for f in intake_status(settings).taken][-1] == "loaded"


def test_a_learning_communities_file_missing_one_of_two_is_held(settings, small_borough_dir):
    _reference(settings, small_borough_dir)
    lcs = pl.read_csv(small_borough_dir / "learning_communities.csv", infer_schema_length=0)
    lcs.head(1).write_csv(settings.inbox_dir / "learning_communities.csv")
    [held] = process_inbox(settings, intake_checks(), ["learning_communities"]).held
    assert "remove 1 of the 2 learning communities" in held.reason
    assert _count(settings, "SELECT count(*) FROM raw.learning_communities") == 2


def test_sending_back_a_file_loaded_before_restores_it_without_a_hold(settings, small_borough_dir):
    _reference(settings, small_borough_dir)
    lcs = pl.read_csv(small_borough_dir / "learning_communities.csv", infer_schema_length=0)
    pl.concat([lcs, pl.DataFrame({"LearningCommunityCode": ["LC03"], "LearningCommunityName": ["Canklow"],
                                  "Collaborative": ["North"]})]).write_csv(settings.inbox_dir / "learning_communities.csv")
    assert process_inbox(settings, intake_checks(), ["learning_communities"]).loaded  # adds one: nothing removed
    copy_into_inbox([small_borough_dir / "learning_communities.csv"], settings)  # the data lead undoes it
    result = process_inbox(settings, intake_checks(), ["learning_communities"])
    assert result.held == [] and [r.file for r in result.loaded] == ["learning_communities.csv"]
    assert _count(settings, "SELECT count(*) FROM raw.learning_communities") == 2


def test_a_cut_census_never_replaces_the_good_one(settings, small_borough_dir):
    _reference(settings, small_borough_dir)
    copy_into_inbox([small_borough_dir / CENSUS], settings)
    before = process_inbox(settings, intake_checks(), ["census"]).rows
    data = (small_borough_dir / CENSUS).read_bytes()
    (settings.inbox_dir / CENSUS).write_bytes(data[: len(data) // 2])  # as the file looks half copied
    result = process_inbox(settings, intake_checks(), ["census"])
    assert result.loaded == [] and result.quarantined[0][1].startswith("csv_last_line_cut")
    assert _count(settings, "SELECT count(*) FROM raw.census") == before
    assert _count(settings, "SELECT count(*) FROM raw.census WHERE laestab IS NULL OR census_date IS NULL") == 0


def test_a_census_that_would_shrink_a_school_term_is_held_and_others_untouched(settings, small_borough_dir):
    _reference(settings, small_borough_dir)
    copy_into_inbox([small_borough_dir / CENSUS], settings)
    full = process_inbox(settings, intake_checks(), ["census"]).rows
    census = pl.read_csv(small_borough_dir / CENSUS, infer_schema_length=0)
    school = census["LAESTAB"].value_counts(sort=True)["LAESTAB"][0]
    mine = census.filter(pl.col("LAESTAB") == school)
    mine.head(mine.height // 2).write_csv(settings.inbox_dir / "census_one_school.csv")
    [held] = process_inbox(settings, intake_checks(), ["census"]).held
    assert f"LAESTAB {school}: {mine.height:,} rows now, {mine.height // 2:,} in this file" in held.reason
    assert _count(settings, "SELECT count(*) FROM raw.census") == full
    # a correction of one pupil fewer is within the limit: it replaces that school-term only
    (Path(held.where) / "census_one_school.csv").unlink()
    mine.head(-1).write_csv(settings.inbox_dir / "census_correction.csv")
    [loaded] = process_inbox(settings, intake_checks(), ["census"]).loaded
    assert loaded.superseded_rows == mine.height and _count(settings, "SELECT count(*) FROM raw.census") == full - 1


# ---------------------------------------------------------------------------------------------
# cross-school identity

def test_the_same_upn_on_a_different_pupil_at_another_school_is_flagged(settings, small_borough_dir):
    _reference(settings, small_borough_dir)
    census = pl.read_csv(small_borough_dir / CENSUS, infer_schema_length=0)
    schools = census["LAESTAB"].unique().sort()
    census.filter(pl.col("LAESTAB") == schools[0]).write_csv(settings.inbox_dir / "a_census.csv")
    process_inbox(settings, intake_checks(), ["census"])
    pupil = census.filter(pl.col("LAESTAB") == schools[0]).row(0, named=True)
    other = census.filter(pl.col("LAESTAB") == schools[1])
    # the first school's pupil's UPN, on a pupil of the second school with their own name and date of birth
    other.with_columns(UPN=pl.when(pl.int_range(pl.len()) == 2).then(pl.lit(pupil["UPN"])).otherwise(pl.col("UPN"))
                       ).write_csv(settings.inbox_dir / "b_census.csv")
    result = process_inbox(settings, intake_checks(), ["census"])
    [(file, findings)] = result.warned
    [clash] = [f for f in findings if f.rule == "upn_identity_clash"]
    assert (file, clash.row, clash.column, clash.value) == ("b_census.csv", 4, "UPN", pupil["UPN"])
    assert "date of birth and name differ" in clash.detail and f"LAESTAB {schools[0]}" in clash.detail
    assert "a_census.csv, row" in clash.detail
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:  # hashes, never the values
        row = con.execute("SELECT * FROM raw.census LIMIT 1").pl()
    assert {"identity_dob_hash", "identity_name_hash"} <= set(row.columns)
    assert not {"dob", "surname", "forename", "upn"} & set(row.columns)


# ---------------------------------------------------------------------------------------------
# one key for one warehouse

def test_a_load_with_another_key_is_refused_and_the_files_stay(tmp_path, small_borough_dir):
    first = make_settings(tmp_path, pseudonymisation_key="the-warehouse-key")
    first.inbox_dir.mkdir(parents=True)
    _reference(first, small_borough_dir)
    other = make_settings(tmp_path, pseudonymisation_key="another-key")
    copy_into_inbox([small_borough_dir / CENSUS], other)
    with pytest.raises(KeyProblem) as e:
        process_inbox(other, intake_checks(), ["census"])
    assert fingerprint(b"another-key") in str(e.value) and fingerprint(b"the-warehouse-key") in str(e.value)
    assert (other.inbox_dir / CENSUS).exists() and _count(other, "SELECT count(*) FROM raw.census") == 0
    assert [r.file for r in process_inbox(first, intake_checks(), ["census"]).loaded] == [CENSUS]


def test_a_missing_key_file_with_a_warehouse_is_an_error_never_a_new_key(tmp_path, small_borough_dir):
    key_file = tmp_path / "keys" / "pathways.key"
    settings = make_settings(tmp_path, pseudonymisation_key=None, key_file=key_file)
    settings.inbox_dir.mkdir(parents=True)
    _reference(settings, small_borough_dir)  # a new warehouse: the key file is made, readable by its owner only
    assert key_file.exists() and key_file.stat().st_mode & 0o777 == 0o600
    recorded = _count(settings, "SELECT key_fingerprint FROM raw.pseudonymisation_key")
    assert recorded == fingerprint(key_file.read_text().strip().encode())
    key_file.unlink()  # a daemon as another user, a restored warehouse, a deleted key
    moved = make_settings(tmp_path, pseudonymisation_key=None, key_file=key_file)
    copy_into_inbox([small_borough_dir / CENSUS], moved)
    with pytest.raises(KeyProblem, match="will not make a new key for an existing warehouse"):
        process_inbox(moved, intake_checks(), ["census"])
    assert not key_file.exists()


def test_a_warehouse_from_before_fingerprints_adopts_only_its_own_key(tmp_path, small_borough_dir):
    settings = make_settings(tmp_path, pseudonymisation_key="old-key")
    settings.inbox_dir.mkdir(parents=True)
    copy_into_inbox([small_borough_dir / CENSUS], settings)
    process_inbox(settings, intake_checks(validate=False), ["census"])
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("DELETE FROM raw.pseudonymisation_key")  # as an older Pathways left it
    copy_into_inbox([small_borough_dir / "schools.csv"], settings)
    with pytest.raises(KeyProblem, match="does not reproduce its pupil keys"):
        process_inbox(make_settings(tmp_path, pseudonymisation_key="new-key"), intake_checks(), ["schools"])
    assert process_inbox(settings, intake_checks(), ["schools"]).loaded
    assert _count(settings, "SELECT key_fingerprint FROM raw.pseudonymisation_key") == fingerprint(b"old-key")


# ---------------------------------------------------------------------------------------------
# one refresh at a time

_HOLDER = """
import sys
from tests.conftest import make_settings
from ingest.lock import refresh_lock
from pathlib import Path
with refresh_lock(make_settings(Path(sys.argv[1])), trigger="test holder"):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_a_second_refresh_says_who_is_running_and_a_killed_one_leaves_no_lock(tmp_path, capsys, monkeypatch):
    from pathways.cli import EXIT_REFRESH_RUNNING, main

    settings = make_settings(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(tmp_path)], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RefreshRunning) as e:
            with refresh_lock(settings):
                pass
        assert str(e.value).startswith("a refresh is already running (started at 20") and f"pid {holder.pid}" in str(e.value)
        assert running_refresh(settings).pid == holder.pid
        # the command says so at once, with the same words, and does not start a run
        monkeypatch.setenv("PATHWAYS_DATA_DIR", str(settings.data_dir))
        monkeypatch.setenv("PATHWAYS_DAGSTER_HOME", str(settings.dagster_home))
        assert main(["refresh"]) == EXIT_REFRESH_RUNNING
        assert "a refresh is already running (started at" in capsys.readouterr().err
        assert not settings.dagster_home.exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert running_refresh(settings) is None  # the killed holder's lock went with it
    with refresh_lock(settings, trigger="next") as mine:
        assert mine.pid == os.getpid()


def test_a_run_the_daemon_starts_during_a_refresh_waits_then_says_a_refresh_is_running(tmp_path, small_borough_dir):
    import dagster as dg

    from orchestration.definitions import build_definitions

    settings = make_settings(tmp_path, refresh_wait_seconds=0.5)
    settings.inbox_dir.mkdir(parents=True)
    copy_into_inbox([small_borough_dir / "learning_communities.csv"], settings)
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(tmp_path)], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        job = build_definitions(settings).resolve_job_def("refresh")
        result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False,
                                        asset_selection=[dg.AssetKey(["raw", "learning_communities"])])
        assert not result.success
        errors = " ".join(str(e.event_specific_data.error.message) for e in result.all_events
                          if e.event_type_value in ("RESOURCE_INIT_FAILURE", "STEP_FAILURE", "PIPELINE_FAILURE")
                          and getattr(e.event_specific_data, "error", None))
        assert "a refresh is already running (started at" in errors and f"pid {holder.pid}" in errors
        assert (settings.inbox_dir / "learning_communities.csv").exists()  # nothing taken
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
