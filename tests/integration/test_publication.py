"""Write-audit-publish under failure: a failed check, a killed run and readers during a refresh
all leave a complete, last-good publication in place. Real refreshes on a small borough."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.conftest import TEST_KEY, copy_into_inbox, make_settings

ROOT = Path(__file__).resolve().parents[2]


def _env(settings) -> dict[str, str]:
    """The same settings for a `pathways` command in another process."""
    return {**os.environ, "PATHWAYS_DAGSTER_HOME": str(settings.dagster_home), "PATHWAYS_DATA_DIR": str(settings.data_dir),
            "PATHWAYS_WAREHOUSE_PATH": str(settings.warehouse), "PATHWAYS_PSEUDONYMISATION_KEY": TEST_KEY}


@pytest.fixture(scope="module")
def borough(small_borough_dir, tmp_path_factory):
    from pathways.cli import run_refresh

    settings = make_settings(tmp_path_factory.mktemp("wap"))
    settings.inbox_dir.mkdir(parents=True)
    copy_into_inbox(sorted(small_borough_dir.iterdir()), settings)
    assert run_refresh(settings)
    return settings


def _snapshot(settings) -> tuple[str, dict[str, str]]:
    """The current publication's id and the sha256 of every file in it."""
    current = settings.published_dir / "current"
    pub = os.readlink(current)
    folder = settings.published_dir / pub
    return pub, {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
                 for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_failing_blocking_check_publishes_nothing_then_the_fix_publishes(borough, small_borough_dir, capsys):
    from pathways.cli import run_refresh

    settings = borough
    before = _snapshot(settings)
    # a learning community added to the reference before any school moved into it
    lcs = pl.read_csv(small_borough_dir / "learning_communities.csv")
    broken = pl.concat([lcs, pl.DataFrame({"LearningCommunityCode": ["LC03"], "LearningCommunityName": ["Canklow Learning Community"],
                                           "Collaborative": ["North"]})])
    broken.write_csv(settings.inbox_dir / "learning_communities.csv")
    assert not run_refresh(settings)
    err = capsys.readouterr().err
    assert "every_community_every_year" in err and "LC03" in err
    assert "Nothing was published" in err
    assert _snapshot(settings) == before  # byte for byte

    # the data lead fixes the reference (sends the good file again) and refreshes
    copy_into_inbox([small_borough_dir / "learning_communities.csv"], settings)
    assert run_refresh(settings)
    after = _snapshot(settings)
    assert after[0] != before[0]
    with duckdb.connect(str(settings.current_publication), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM dim_learning_communities").fetchall()[0][0] == 2


def _reader_loop(settings, stop: threading.Event, seen: list, errors: list):
    """Open whatever is current, read-only, and check it is a whole publication."""
    import json

    while not stop.is_set():
        try:
            folder = Path(os.path.realpath(settings.published_dir / "current"))
            manifest = json.loads((folder / "manifest.json").read_text())
            with duckdb.connect(str(folder / "pathways.duckdb"), read_only=True) as con:
                for table, rows in manifest["tables"].items():
                    assert con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] == rows, table
            seen.append(manifest["publication_id"])
        except Exception as e:  # noqa: BLE001 - any failure to read is what this test looks for
            errors.append(repr(e))
        time.sleep(0.05)


def test_readers_in_other_processes_never_see_half_a_publication(borough):
    settings = borough
    first, _ = _snapshot(settings)
    stop = threading.Event()
    seen: list[str] = []
    errors: list[str] = []
    reader = threading.Thread(target=_reader_loop, args=(settings, stop, seen, errors))
    reader.start()
    try:
        proc = subprocess.run([sys.executable, "-m", "pathways.cli", "refresh", "--force"], cwd=ROOT,
                              env=_env(settings), capture_output=True, text=True, timeout=600)
    finally:
        stop.set()
        reader.join()
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert errors == []
    assert len(seen) > 20 and seen[0] == first and seen[-1] != first  # read before, during and after the swap


def test_a_run_killed_mid_build_leaves_the_publication_and_the_next_run_succeeds(borough):
    from pathways.cli import run_refresh

    settings = borough
    before = _snapshot(settings)
    proc = subprocess.Popen([sys.executable, "-m", "pathways.cli", "refresh", "--force", "--verbose"], cwd=ROOT,
                            env=_env(settings), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    deadline = time.time() + 300
    for line in proc.stdout:
        if "Running dbt command" in line or time.time() > deadline:
            break
    time.sleep(2)  # well inside the dbt build
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert _snapshot(settings) == before
    assert run_refresh(settings)
    assert _snapshot(settings)[0] != before[0]
    assert not list(settings.published_dir.glob(".building-*"))
