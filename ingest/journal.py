"""Deletions that cannot half-happen: the journal behind a retention purge and an erasure.

A purge or an erasure changes three things that no single transaction covers: rows in the
warehouse, files in the archive (and quarantine, and inbox), and the record of what was done.
So each runs in four steps, and a kill at any moment leaves either the state before or the
state after:

1. **Prepare**: new files it needs (an archived upload rewritten without some rows) are written
   beside the old ones under new names; nothing existing is touched yet.
2. **Journal**: ``<data_dir>/.operations/<operation-id>.json`` is written (and fsynced) naming
   every file created in step 1 and every file change to make after the commit.
3. **Commit**: one DuckDB transaction deletes the rows, repoints lineage, and inserts the
   operation's row in ``data_protection.operations`` - the commit marker.
4. **Apply**: the file changes (delete an expired or rewritten archive file, swap a rewritten
   quarantined file into place), then the journal is removed.
5. **Compact**: the warehouse is copied to a new file and renamed over the old one, so the
   deleted rows are gone from the file itself, not only marked deleted in it (DuckDB reuses the
   space of deleted rows but does not clear it). A kill here leaves the committed warehouse and
   a partial copy, which recovery removes.

``recover`` runs before every purge, erasure and refresh: for each journal left behind, the
commit marker decides. No marker: the transaction never committed (DuckDB discards an
uncommitted one), so the files created in step 1 are removed - the state before. Marker: the
rows are gone, so the file changes are finished - the state after. Every step is idempotent.
Recovery only runs while holding the warehouse's write lock, which the operation holds from
step 1 to step 4, so it never races a live operation.
"""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

JOURNAL_DIR = ".operations"

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS data_protection;
CREATE TABLE IF NOT EXISTS data_protection.operations (
    operation_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, actor VARCHAR, reference VARCHAR,
    started_at TIMESTAMPTZ, committed_at TIMESTAMPTZ NOT NULL, summary VARCHAR);
CREATE TABLE IF NOT EXISTS data_protection.erased_pupils (
    pupil_key VARCHAR PRIMARY KEY, operation_id VARCHAR NOT NULL, erased_at TIMESTAMPTZ NOT NULL);
CREATE TABLE IF NOT EXISTS data_protection.archive_rewrites (
    old_sha256 VARCHAR NOT NULL, new_sha256 VARCHAR, upload_id VARCHAR, reason VARCHAR NOT NULL,
    operation_id VARCHAR NOT NULL, rows_removed BIGINT, rewritten_at TIMESTAMPTZ NOT NULL);
"""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """The warehouse's record of purges and erasures (kept apart from the raw layer)."""
    con.execute(SCHEMA)


@dataclass
class Journal:
    operation_id: str
    kind: str                                   # retention_purge | erasure
    created: list[str] = field(default_factory=list)      # files made in step 1: removed on roll-back
    delete: list[str] = field(default_factory=list)       # files and folders to delete after the commit
    replace: list[tuple[str, str]] = field(default_factory=list)  # (new, old): new renamed over old after the commit

    def path(self, data_dir: Path) -> Path:
        return Path(data_dir) / JOURNAL_DIR / f"{self.operation_id}.json"

    def write(self, data_dir: Path) -> Path:
        p = self.path(data_dir)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(".partial")
        with open(tmp, "w") as f:
            json.dump(self.__dict__, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
        _fsync_dir(p.parent)
        return p

    @classmethod
    def read(cls, path: Path) -> Journal:
        d = json.loads(path.read_text())
        return cls(d["operation_id"], d["kind"], d["created"], d["delete"], [tuple(r) for r in d["replace"]])


def committed(con: duckdb.DuckDBPyConnection, operation_id: str) -> bool:
    ensure_schema(con)
    return bool(con.execute("SELECT 1 FROM data_protection.operations WHERE operation_id = ?", [operation_id]).fetchall())


def apply(journal: Journal, data_dir: Path, progress=lambda m: None) -> None:
    """Step 4: the file changes after the commit (idempotent), then the journal goes."""
    for new, old in journal.replace:
        if Path(new).exists():
            if Path(old).exists():  # the rewritten file keeps its age (a quarantine's retention clock)
                st = os.stat(old)
                os.utime(new, (st.st_atime, st.st_mtime))
            os.replace(new, old)
            progress(f"replaced {old}")
    for p in journal.delete:
        if remove(Path(p)):
            progress(f"deleted {p}")
    _drop(journal, data_dir)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection, journal: Journal, data_dir: Path, warehouse: Path,
                progress=lambda m: None, applied: str = "files changed"):
    """Steps 2-4 around the body: the warehouse changes in one transaction, COMMIT, then the file
    changes and compaction. Anything raised before the COMMIT undoes both sides."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        progress("committing")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        roll_back(journal, data_dir)
        raise
    progress("transaction committed")
    apply(journal, data_dir, progress)
    progress(applied)
    compact(con, warehouse, progress)


def roll_back(journal: Journal, data_dir: Path) -> None:
    """Undo step 1 (the transaction never committed, so nothing else changed)."""
    for p in journal.created:
        remove(Path(p))
    for new, _old in journal.replace:
        remove(Path(new))
    _drop(journal, data_dir)


def pending(data_dir: Path) -> list[Path]:
    folder = Path(data_dir) / JOURNAL_DIR
    return sorted(folder.glob("*.json")) if folder.exists() else []


def recover(con: duckdb.DuckDBPyConnection, data_dir: Path, progress=lambda m: None) -> list[str]:
    """Finish or undo every operation a kill interrupted; returns what was done, in words.
    ``con`` must be a write connection: holding it proves no operation is running."""
    done = []
    folder = Path(data_dir) / JOURNAL_DIR
    for stale in folder.glob("*.partial") if folder.exists() else []:
        stale.unlink()  # a journal never completed: its operation never reached the commit
    archive = Path(data_dir) / "archive"
    for stale in archive.glob(".*.partial*") if archive.exists() else []:
        remove(stale)  # half-written copies (a rewrite, or an upload being archived when killed)
    for path in pending(data_dir):
        journal = Journal.read(path)
        if committed(con, journal.operation_id):
            apply(journal, data_dir, progress)
            done.append(f"finished the file changes of {journal.kind} {journal.operation_id} (it had committed)")
        else:
            roll_back(journal, data_dir)
            done.append(f"undid {journal.kind} {journal.operation_id} (it had not committed; nothing was deleted)")
    for msg in done:
        progress(msg)
    return done


def remove(path: Path) -> bool:
    """Delete a file or folder, read-only or not; False when already gone."""
    if path.is_symlink() or path.is_file():
        os.chmod(path, 0o644) if not path.is_symlink() else None
        path.unlink()
        return True
    if path.is_dir():
        for p in path.rglob("*"):
            if p.is_file() and not p.is_symlink():
                os.chmod(p, 0o644)
        shutil.rmtree(path)
        return True
    return False


def _drop(journal: Journal, data_dir: Path) -> None:
    p = journal.path(data_dir)
    if p.exists():
        p.unlink()
        _fsync_dir(p.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def compact(con: duckdb.DuckDBPyConnection, warehouse: Path, progress=lambda m: None) -> tuple[int, int]:
    """Step 5: copy the warehouse to a new file and rename it over the old, while ``con`` (the
    write connection) still holds the old one, so no other writer starts in between. The caller
    closes ``con`` afterwards. Returns the file's size before and after, in bytes."""
    tmp = compaction_leftover(warehouse)
    remove(tmp)
    before = warehouse.stat().st_size
    db = con.execute("SELECT current_database()").fetchone()[0]
    con.execute("CHECKPOINT")
    quoted = str(tmp).replace("'", "''")
    con.execute(f"ATTACH '{quoted}' AS pathways_compacted")
    progress("compacting the warehouse")
    try:
        con.execute(f'COPY FROM DATABASE "{db}" TO pathways_compacted')
    finally:
        con.execute("DETACH pathways_compacted")
    wal = warehouse.with_name(warehouse.name + ".wal")
    if wal.exists() and wal.stat().st_size:  # never expected after CHECKPOINT: keep the old file then
        remove(tmp)
        return before, before
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, warehouse)
    _fsync_dir(warehouse.parent)
    return before, warehouse.stat().st_size


def compaction_leftover(warehouse: Path) -> Path:
    return warehouse.with_name(f".{warehouse.name}.compact.partial")


def recover_interrupted(data_dir: Path, warehouse: Path, progress=lambda m: None) -> list[str]:
    """Before a refresh or another operation: finish or undo whatever a kill interrupted. Cheap
    when nothing is pending (no connection is opened)."""
    folder = Path(data_dir) / JOURNAL_DIR
    leftover = compaction_leftover(warehouse)
    if not (pending(data_dir) or leftover.exists() or (folder.exists() and any(folder.glob("*.partial")))):
        return []
    with duckdb.connect(str(warehouse)) as con:  # the write lock: no operation is running
        remove(leftover)  # a copy a kill interrupted; the warehouse itself is whole
        return recover(con, data_dir, progress)
