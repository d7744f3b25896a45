"""One key for one warehouse.

Pupil keys are keyed hashes of UPNs (docs/methodology.md#pseudonymisation): load a file with a
different key and each of its pupils becomes a stranger to the warehouse, silently splitting
every cohort. So the warehouse records the fingerprint of the key that pseudonymised it
(``raw.pseudonymisation_key``), and a load is refused unless the key in use has that fingerprint.
A key file is created only for a new, empty warehouse; a missing key with an existing warehouse
is an error, never a new key.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from config.settings import KeyMissing, Settings, fingerprint

HOW_TO = "README.md, section 'The pseudonymisation key'"


class KeyProblem(Exception):
    """The key in use cannot be used with this warehouse (the message says why and what to do)."""


def ensure_key_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute("""CREATE TABLE IF NOT EXISTS raw.pseudonymisation_key (
        key_fingerprint VARCHAR NOT NULL, recorded_at TIMESTAMPTZ NOT NULL, how VARCHAR)""")


def recorded_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    ensure_key_table(con)
    row = con.execute("SELECT key_fingerprint FROM raw.pseudonymisation_key ORDER BY recorded_at LIMIT 1").fetchone()
    return row[0] if row else None


def _holds_uploads(con: duckdb.DuckDBPyConnection) -> bool:
    has = con.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = 'raw' AND table_name = 'uploads'").fetchall()
    return bool(has) and bool(con.execute("SELECT 1 FROM raw.uploads LIMIT 1").fetchall())


def warehouse_key(settings: Settings, con: duckdb.DuckDBPyConnection) -> bytes:
    """The key to pseudonymise this warehouse's uploads with, checked against the one it was made with.

    New warehouse: the key in use (the key file is created, mode 600, if there is none) and its
    fingerprint is recorded. Existing warehouse: the key in use must have the recorded fingerprint."""
    recorded = recorded_fingerprint(con)
    existing = recorded is not None or _holds_uploads(con)
    try:
        key = settings.key
    except KeyMissing as e:
        if existing:
            raise KeyProblem(
                f"{e}, but the warehouse {settings.warehouse} already holds pupils pseudonymised with the key of "
                f"fingerprint {recorded or '(not recorded)'}. Pathways will not make a new key for an existing "
                f"warehouse (every pupil would get a second, unlinked key). Restore the key file from your backup, or "
                f"point PATHWAYS_KEY_FILE at it (see {HOW_TO}).") from None
        key = create_key_file(settings)
    used = fingerprint(key)
    if recorded is None:
        how = "first load" if not existing else _adopt(con, key)
        con.execute("INSERT INTO raw.pseudonymisation_key VALUES (?, ?, ?)", [used, datetime.now(UTC), how])
        return key
    if used != recorded:
        raise KeyProblem(
            f"the pseudonymisation key in use ({settings.key_source}, fingerprint {used}) is not the key this warehouse "
            f"was pseudonymised with (fingerprint {recorded}). Loading with it would give every pupil a second, unlinked "
            f"key. Use the warehouse's key (restore it from your backup, or point PATHWAYS_KEY_FILE at it), or, to "
            f"change keys on purpose, rebuild a new warehouse from the archive with the new key (see {HOW_TO}).")
    return key


def create_key_file(settings: Settings) -> bytes:
    """A new random key (32 bytes, hex) in the key file, readable by its owner only."""
    path = settings.key_file
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it a moment ago: use that one
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    settings.__dict__.pop("key", None)  # forget a cached failure to read it
    return settings.key


def _adopt(con: duckdb.DuckDBPyConnection, key: bytes) -> str:
    """A warehouse loaded before fingerprints were recorded: accept the key only if it reproduces
    pupil keys already in the warehouse from their archived uploads."""
    from ingest.canonical import canonicalise
    from ingest.identifiers import pseudonymise
    from ingest.sources import PUPIL_SOURCES

    uploads = con.execute(f"""SELECT upload_id, source, archived_path FROM raw.uploads
                              WHERE source IN ({", ".join(f"'{s}'" for s in PUPIL_SOURCES)})
                              ORDER BY loaded_at DESC LIMIT 3""").fetchall()
    if not uploads:
        return "adopted (no pupil data loaded yet)"
    for upload_id, source, archived in uploads:
        try:
            table = canonicalise(Path(archived))
        except Exception:  # noqa: BLE001 - an archived file that cannot be read just cannot vouch for the key
            continue
        sample = table.frame.select("row_number", "upn").drop_nulls().unique("row_number").head(20)
        if sample.height == 0:
            continue
        mine = sample.with_columns(pupil_key=pseudonymise(sample["upn"], key)).select("row_number", "pupil_key")
        con.register("sample_keys", mine.to_arrow())
        matched = con.execute(f"""SELECT count(*) FROM raw.{source} r JOIN sample_keys s
                                  ON r.row_number = s.row_number AND r.pupil_key = s.pupil_key
                                  WHERE r.upload_id = ?""", [upload_id]).fetchone()[0]
        con.unregister("sample_keys")
        if matched:
            return f"adopted (reproduces pupil keys of upload {upload_id})"
        raise KeyProblem(
            f"this warehouse was loaded before key fingerprints were recorded, and the key in use does not reproduce "
            f"its pupil keys (upload {upload_id}): it is not the key the warehouse was made with. Use that key "
            f"(see {HOW_TO}).")
    raise KeyProblem("this warehouse was loaded before key fingerprints were recorded and none of its archived uploads "
                     f"can be read to check the key in use against it (see {HOW_TO}).")
