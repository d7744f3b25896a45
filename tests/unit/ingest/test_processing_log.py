"""The processing log: append-only JSON lines, each entry chained to the one before, safe to
write from several processes at once (the pipeline and the web scorecard)."""

from __future__ import annotations

import json
import subprocess
import sys

from config.settings import PROJECT_ROOT
from ingest import processing_log


def test_entries_say_who_did_what_and_when_and_chain(tmp_path):
    processing_log.record(tmp_path, "refresh", "started", {"trigger": "cli"})
    processing_log.record(tmp_path, "download", "done", {"file": "LC03.xlsx"}, actor="a.jones@rotherham.gov.uk")
    entries = processing_log.read(tmp_path)
    assert [e["action"] for e in entries] == ["refresh", "download"]
    assert entries[0]["actor"] == processing_log.current_user() and entries[0]["actor_type"] == "os_user"
    assert entries[1]["actor"] == "a.jones@rotherham.gov.uk" and entries[1]["actor_type"] == "signed_in_user"
    assert entries[0]["at"] < entries[1]["at"] and entries[0]["at"].endswith("+00:00")
    assert processing_log.verify(tmp_path) == []


def test_an_edited_or_removed_entry_breaks_the_chain(tmp_path):
    for i in range(4):
        processing_log.record(tmp_path, "validate", "done", {"n": i})
    path = processing_log.log_path(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:1] + lines[2:]))  # one entry removed
    assert any("line 2" in p for p in processing_log.verify(tmp_path))
    edited = json.loads(lines[1])
    edited["actor"] = "someone else"
    path.write_bytes(lines[0] + json.dumps(edited).encode() + b"\n" + b"".join(lines[2:]))
    assert processing_log.verify(tmp_path)


def test_the_logged_block_records_the_outcome_and_the_error(tmp_path):
    with processing_log.logged(tmp_path, "retention_purge", {"years": 2}) as log:
        log["raw_rows"] = 10
    try:
        with processing_log.logged(tmp_path, "erasure"):
            raise RuntimeError("disk full")
    except RuntimeError:
        pass
    entries = processing_log.read(tmp_path)
    assert [(e["action"], e["outcome"]) for e in entries] == [
        ("retention_purge", "started"), ("retention_purge", "succeeded"), ("erasure", "started"), ("erasure", "failed")]
    assert entries[1]["details"] == {"years": 2, "raw_rows": 10}
    assert "disk full" in entries[3]["details"]["error"]


def test_writers_in_several_processes_never_break_the_chain(tmp_path):
    script = ("import sys; from pathlib import Path; from ingest import processing_log as p\n"
              "for i in range(30): p.record(Path(sys.argv[1]), 'page_view', 'done', {'i': i}, actor=sys.argv[2])")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path), f"user{n}"], cwd=PROJECT_ROOT) for n in range(4)]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    assert len(processing_log.read(tmp_path)) == 120
    assert processing_log.verify(tmp_path) == []
