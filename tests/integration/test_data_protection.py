"""Data protection on a real small borough, through the real archive, warehouse, dbt and Dagster:

- retention deletes exactly what is past its period (raw rows, archived uploads - one rewritten
  without its expired rows -, a quarantined upload) and nothing else; the marts still build and
  the next publication records the purge;
- a subject access export holds all of one pupil's records (warehouse, model rows, archived,
  quarantined and waiting files) and nothing of any other pupil;
- an erased pupil is gone from every file and table, lineage still points at the right rows,
  and dropping the old files again does not bring them back;
- a purge or an erasure killed (SIGKILL, in a subprocess running the real code) at any step
  leaves, once recovered, the state before it - or, once it had committed, the state after.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from config.settings import PROJECT_ROOT, Settings
from expectations.context import intake_checks
from expectations.reports import quarantine_reports
from ingest import erasure, journal, processing_log, retention, subject_access
from ingest.canonical import canonicalise
from ingest.identifiers import pseudonymise
from ingest.inbox import process_inbox
from ingest.pupil_records import PUPIL_SOURCES
from ingest.readers import read_table
from ingest.warehouse import connect, load_upload
from tests.conftest import TEST_KEY, copy_into_inbox, make_settings

# a Year 6 pupil is in every source but the post-16 tracking (the young person below is in that)
SCHOOL_AGE_SOURCES = [t for t in PUPIL_SOURCES if t != "post16_activity"]
AS_OF = "2026-01-01"   # fixed, so the test means the same every year: a two-year period has passed for
YEARS = 2              # 2022/23 (ended 31 August 2023), the small borough's first year, and no other
SOURCE_ORDER = ["learning_communities", "schools", "ofsted_inspections", "census", "attendance", "attainment",
                "pupil_premium", "exclusions", "post16_activity", "home_areas", "population_estimates",
                "early_years_census", "eligible_two_year_olds", None]


def _expired(by_year: dict[int, int]) -> int:
    """Rows of 2022/23 and earlier (the early years files of the small borough start two years before its schools')."""
    return sum(n for y, n in by_year.items() if y <= 2022)


def _ingest(settings: Settings, progress=lambda m: None) -> None:
    """The refresh's ingest step, source by source, without dbt (seconds, not a refresh)."""
    for source in SOURCE_ORDER:
        process_inbox(settings, intake_checks(settings.key if source else None, validate=source is not None), [source],
                      progress=progress)


def _upns(path: Path) -> set[str]:
    return set(read_table(path).frame["UPN"].drop_nulls().to_list())


def _copy(root: Path, to: Path) -> Settings:
    shutil.copytree(root, to, symlinks=True)
    return make_settings(to)


def _key(upn: str) -> str:
    return pseudonymise(pl.Series([upn]), TEST_KEY.encode())[0]


def _files_mentioning(folder: Path, text: str) -> list[str]:
    """Every file under ``folder`` whose bytes (or, for a workbook, XML) contain ``text``."""
    out = []
    for p in folder.rglob("*"):
        if not p.is_file():
            continue
        data = p.read_bytes()
        if data[:4] == b"PK\x03\x04":
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                data = b"".join(z.read(n) for n in z.namelist())
        if text.encode() in data.upper():
            out.append(str(p.relative_to(folder)))
    return out


@pytest.fixture(scope="module")
def pupil(small_borough_dir) -> str:
    """A pupil in every source after 2022/23: census, attendance, KS2 (a workbook), pupil premium (a workbook),
    and suspended or excluded (the returns from spring 2025 on carry 2023/24 and 2024/25 terms only)."""
    d = small_borough_dir
    excluded = set().union(*(_upns(d / f"census_exclusions_{c}.csv") for c in ("2024-25_spring", "2024-25_summer",
                                                                              "2025-26_autumn")))
    common = (_upns(d / "school_census_2024-25_spring.csv") & _upns(d / "attendance_2023-24_autumn.csv")
              & _upns(d / "ks2_2023-24.xlsx") & _upns(d / "pupil_premium_2023-24.xlsx") & _upns(d / "pupil_premium_2024-25.xlsx")
              & excluded)
    return sorted(common)[0]


@pytest.fixture(scope="module")
def young_person(small_borough_dir) -> str:
    """A young person in every month of the post-16 tracking (16 in 2023/24, 17 in 2024/25) who left school
    after Year 11 (on no 2024/25 census): the pupil above is a child, so this one follows raw.post16_activity."""
    d = small_borough_dir
    tracked = set.intersection(*(_upns(p) for p in sorted(d.glob("post16_activity_*.csv"))))
    at_school = set().union(*(_upns(p) for p in d.glob("school_census_2024-25_*.csv")))
    return sorted(tracked - at_school)[0]


@pytest.fixture(scope="module")
def template(small_borough_dir, pupil, tmp_path_factory) -> Path:
    """The small borough ingested (no dbt), plus: one school's attendance for 2022/23 summer and
    2023/24 autumn resent in one file (two academic years in one upload), and a census resend
    with an impossible date, quarantined 100 days ago (the pupil is in it), and a census resend
    that would halve one school's term, held for confirmation 100 days ago and never confirmed;
    and the post-16 tracking's March 2023 snapshot of the young people then in Year 11 (the
    generated tracking starts in December 2023), so that 2022/23 has post-16 rows to expire."""
    root = tmp_path_factory.mktemp("dp_template")
    s = make_settings(root)
    s.inbox_dir.mkdir(parents=True)
    copy_into_inbox(sorted(small_borough_dir.iterdir()), s)
    d = small_borough_dir
    # Year 11 in March 2023: NCCIS's pre-16 code 110, registered at a school in the area
    (pl.read_csv(d / "post16_activity_2023-12.csv", infer_schema_length=0)
     .with_columns(SnapshotDate=pl.lit("31/03/2023"), ActivityCode=pl.lit("110"), ActivityStartDate=pl.lit("01/09/2022"))
     .write_csv(s.inbox_dir / "post16_activity_2023-03.csv"))
    summer = pl.read_csv(d / "attendance_2022-23_summer.csv", infer_schema_length=0)
    school = summer["LAESTAB"][0]
    both = pl.concat([summer, pl.read_csv(d / "attendance_2023-24_autumn.csv", infer_schema_length=0)]).filter(
        pl.col("LAESTAB") == school)
    both.write_csv(s.inbox_dir / f"attendance_resubmission_{school}.csv")
    census = pl.read_csv(d / "school_census_2024-25_spring.csv", infer_schema_length=0)
    bad_row = next(i for i, u in enumerate(census["UPN"]) if u != pupil)
    census.with_columns(EntryDate=pl.when(pl.int_range(pl.len()) == bad_row).then(pl.lit("31/02/2024"))
                        .otherwise(pl.col("EntryDate"))).write_csv(s.inbox_dir / "census_spring_resend.csv")
    _ingest(s)
    assert not list(s.inbox_dir.iterdir())
    (folder,) = list(s.quarantine_dir.iterdir())
    # and a census resend that would halve one school's spring term: held for confirmation, never confirmed
    school = census.filter(pl.col("UPN") != pupil)["LAESTAB"][0]
    half = census.filter(pl.col("LAESTAB") == school)
    half.head(half.height // 2).write_csv(s.inbox_dir / "census_spring_one_school.csv")
    _ingest(s)
    (held_folder,) = list(s.held_dir.iterdir())
    old = time.time() - 100 * 86400
    for p in [folder, *folder.iterdir(), held_folder, *held_folder.iterdir()]:
        os.utime(p, (old, old))
    return root


def _state(s: Settings) -> dict:
    """What a purge or erasure changes: raw rows (with lineage), upload records, the record of
    operations, and every file under the data folder."""
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        raw = {t: con.execute(f"SELECT upload_id, sha256, academic_year, count(*), sum(row_number) FROM raw.{t} "
                              "GROUP BY ALL ORDER BY ALL").fetchall() for t in PUPIL_SOURCES}
        uploads = [(u, sha, Path(p).name, n) for u, sha, p, n in
                   con.execute("SELECT upload_id, sha256, archived_path, rows FROM raw.uploads ORDER BY 1").fetchall()]
        has_dp = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'data_protection'").fetchone()[0]
        ops = sorted(k for (k,) in con.execute("SELECT kind FROM data_protection.operations").fetchall()) if has_dp else []
        erased = con.execute("SELECT count(*) FROM data_protection.erased_pupils").fetchone()[0] if has_dp else 0
    files = sorted(str(p.relative_to(s.data_dir)) for p in s.data_dir.rglob("*")
                   if p.is_file() and p.name not in ("warehouse.duckdb", "warehouse.duckdb.wal", "processing_log.jsonl"))
    return {"raw": raw, "uploads": uploads, "operations": ops, "erased": erased, "files": files}


def _rows_by_year(s: Settings) -> dict[str, dict[int, int]]:
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        return {t: dict(con.execute(f"SELECT academic_year, count(*) FROM raw.{t} GROUP BY 1").fetchall()) for t in PUPIL_SOURCES}


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    """The `pathways` command as a user runs it, with this test's settings in its environment."""
    env = {**os.environ, "PATHWAYS_DATA_DIR": str(settings.data_dir), "PATHWAYS_WAREHOUSE_PATH": str(settings.warehouse),
           "PATHWAYS_DAGSTER_HOME": str(settings.dagster_home), "PATHWAYS_PSEUDONYMISATION_KEY": TEST_KEY}
    return subprocess.run([sys.executable, "-m", "pathways.cli", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


# --- retention ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def purged(template, tmp_path_factory) -> dict:
    s = _copy(template, tmp_path_factory.mktemp("dp_purged") / "root")
    before = {"state": _state(s), "years": _rows_by_year(s)}
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        before["uploads"] = con.execute("SELECT upload_id, source, source_file, academic_years, archived_path FROM raw.uploads").pl()
    dry = _cli(s, "retention", "--years", str(YEARS), "--as-of", AS_OF)
    assert dry.returncode == 0, dry.stderr
    assert _state(s) == before["state"], "a dry run changed something"
    applied = _cli(s, "retention", "--apply", "--years", str(YEARS), "--as-of", AS_OF)
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    return {"settings": s, "before": before, "dry": dry.stdout, "applied": applied.stdout}


def test_a_dry_run_lists_what_the_period_would_remove(purged):
    dry, years = purged["dry"], purged["before"]["years"]
    assert "academic years to 2022/23" in dry and "Dry run: nothing was deleted" in dry
    for source in PUPIL_SOURCES:
        assert f"{_expired(years[source]):,}" in dry, source
    assert "attendance_resubmission_" in dry and "rewrite without" in dry
    assert "quarantined uploads older than 90 days: 1; uploads held for confirmation that long: 1" in dry


def test_retention_purges_exactly_what_is_past_its_period(purged):
    s, before = purged["settings"], purged["before"]
    after = _rows_by_year(s)
    for source in PUPIL_SOURCES:  # every row of 2022/23 and before gone; every row of a later year still there
        assert not any(y <= 2022 for y in after[source])
        assert after[source] == {y: n for y, n in before["years"][source].items() if y > 2022}, source
    uploads = before["uploads"].with_columns(archived=pl.col("archived_path").str.extract(r"([^/]+)$"))
    past = pl.col("academic_years").str.split(",").list.eval(pl.element().cast(pl.Int64, strict=False) <= 2022).list.all()
    whole = uploads.filter((pl.col("academic_years").fill_null("") != "") & past)["archived"].to_list()
    both_years = uploads.filter(pl.col("academic_years") == "2022,2023")
    # 12, the three exclusions returns holding 2022/23 terms only, the March 2023 post-16 snapshot and the six
    # early years files (three January censuses, three lists, 2020/21 to 2022/23); two uploads span both years:
    # the attendance resubmission and the spring 2024 exclusions return (summer 2023 and autumn 2023 terms)
    assert len(whole) == 22 and both_years.height == 2
    assert sorted(both_years["source"]) == ["attendance", "exclusions"]
    mixed = both_years.filter(pl.col("source") == "attendance")
    files_before = set(before["state"]["files"])
    files_after = set(_state(s)["files"])
    quarantined = {f for f in files_before if f.startswith("quarantine/")}
    quarantine_copy = {f for f in files_before if f.startswith("archive/" + Path(next(iter(quarantined))).parts[1])}
    held = {f for f in files_before if f.startswith("held/")}
    held_copy = {f for f in files_before if f.startswith("archive/" + Path(next(iter(held))).parts[1])}
    gone = ({f"archive/{a}" for a in whole} | {f"archive/{a}" for a in both_years["archived"]} | quarantined | quarantine_copy
            | held | held_copy)
    assert len(quarantined) == 4 and len(quarantine_copy) == 1  # the file, its three reports; its archived copy
    assert len(held) == 5  # the file, its three reports and held.json (the unconfirmed upload is kept no longer)
    assert files_before - files_after == gone  # nothing else deleted
    rewrites = files_after - files_before - {f for f in files_after if not f.startswith("archive/")}
    assert len(rewrites) == 2  # each upload spanning both years, rewritten to its 2023/24 rows
    (rewritten,) = [f for f in rewrites if canonicalise(s.data_dir / f).source.name == "attendance"]
    # the mixed upload's archived file now holds its 2023/24 rows only, and its raw rows point at them
    table = canonicalise(s.data_dir / rewritten).frame
    assert set(table["academic_year"].unique()) == {2023}
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        rows = con.execute("SELECT row_number, pupil_key, sha256 FROM raw.attendance WHERE upload_id = ?",
                           [mixed["upload_id"][0]]).pl()
    assert rows.height == table.height and set(rows["sha256"]) == {Path(rewritten).name.split(".")[0]}
    keyed = table.select("row_number", pupil_key=pseudonymise(table["upn"], TEST_KEY.encode()))
    assert rows.join(keyed, on="row_number").filter(pl.col("pupil_key") == pl.col("pupil_key_right")).height == rows.height
    # and nothing more is past the period: a second review finds nothing (the rewritten upload holds 2023/24 only)
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        assert retention.make_plan(s, con, date.fromisoformat(AS_OF), YEARS).empty
        assert con.execute("SELECT academic_years FROM raw.uploads WHERE upload_id = ?", [mixed["upload_id"][0]]).fetchone() == ("2023",)


def test_after_a_purge_the_marts_build_and_the_publication_says_what_was_purged(purged):
    s, years = purged["settings"], purged["before"]["years"]
    assert "Published; its manifest.json records the purge" in purged["applied"]
    manifest = json.loads((s.published_dir / "current" / "manifest.json").read_text())
    (purge,) = manifest["data_protection"]["purges_since_previous_publication"]
    assert purge["raw_rows_deleted"] == {t: _expired(years[t]) for t in PUPIL_SOURCES}
    # with three exclusions returns and a post-16 snapshot of 2022/23 only, six early years files and one
    # exclusions return spanning both years
    assert (purge["archived_uploads_deleted"], purge["archived_uploads_rewritten"], purge["quarantined_uploads_deleted"]) == (22, 2, 1)
    assert purge["academic_years_purged_up_to"]["census"] == "2022/23"
    assert not any(isinstance(v, list) for v in purge.values()), "counts only"
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.learning_community_outcomes WHERE academic_year = 2022").fetchone()[0] == 0
        assert con.execute("SELECT count(DISTINCT academic_year) FROM marts.learning_community_outcomes").fetchone()[0] == 2
        assert con.execute("SELECT count(*) FROM intermediate.int_pupil_years WHERE academic_year = 2022").fetchone()[0] == 0
    actions = [(e["action"], e["outcome"]) for e in processing_log.read(s.data_dir)]
    assert ("retention_review", "done") in actions and ("retention_purge", "succeeded") in actions
    assert ("refresh", "succeeded") in actions and ("publish", "succeeded") in actions
    assert processing_log.verify(s.data_dir) == []


# --- subject access ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def everywhere(purged, pupil, small_borough_dir, tmp_path_factory) -> Settings:
    """After the purge and refresh (so pupil-level model rows exist): the pupil is also in a
    freshly quarantined upload, an upload held for confirmation, and a file waiting in the inbox."""
    s = _copy(purged["settings"].data_dir.parent, tmp_path_factory.mktemp("dp_everywhere") / "root")
    census = pl.read_csv(small_borough_dir / "school_census_2024-25_summer.csv", infer_schema_length=0)
    assert pupil in census["UPN"].to_list()
    bad_row = next(i for i, u in enumerate(census["UPN"]) if u != pupil)  # a school code no school has, on another row
    census.with_columns(LAESTAB=pl.when(pl.int_range(pl.len()) == bad_row).then(pl.lit("9999999")).otherwise(pl.col("LAESTAB"))
                        ).write_csv(s.inbox_dir / "census_summer_resend.csv")
    process_inbox(s, intake_checks(s.key), ["census"])
    assert len(list(s.quarantine_dir.iterdir())) == 1
    # a resend of the pupil's school's summer census with half its rows: held for confirmation
    school = census.filter(pl.col("UPN") == pupil)["LAESTAB"][0]
    rows = census.filter(pl.col("LAESTAB") == school)
    rows.filter(pl.col("UPN") == pupil).vstack(rows.filter(pl.col("UPN") != pupil).head(rows.height // 2 - 1)).write_csv(
        s.inbox_dir / "census_summer_one_school.csv")
    process_inbox(s, intake_checks(s.key), ["census"])
    assert len(list(s.held_dir.iterdir())) == 1
    shutil.copy(small_borough_dir / "pupil_premium_2024-25.xlsx", s.inbox_dir / "pupil_premium_2024-25.xlsx")
    return s


def test_a_subject_access_export_holds_all_and_only_that_pupils_records(everywhere, pupil, small_borough_dir, tmp_path):
    s = everywhere
    result = subject_access.search(s, [pupil.lower()])
    out = tmp_path / "export"
    written = subject_access.write_export(result, out)
    # all of the warehouse: every raw row with the pupil's key, from every source, and model rows
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        for t in SCHOOL_AGE_SOURCES:
            expected = con.execute(f"SELECT upload_id, row_number FROM raw.{t} WHERE pupil_key = ? ORDER BY ALL", [_key(pupil)]).fetchall()
            # a secondary pupil was never in the early years files (test_early_years_records_are_found_and_erased)
            assert expected or t in EARLY_YEARS, f"the pupil should be in raw.{t}"
            assert sorted(result.raw[t].select("upload_id", "row_number").rows()) == expected
    assert any(t.endswith("int_pupil_years") for t in result.derived)
    # all of the files: every row of every archived, quarantined or waiting file holding the UPN
    expected_rows = set()
    for folder, location in ((s.archive_dir, "archive"), (s.quarantine_dir, "quarantine"), (s.held_dir, "held"),
                             (s.inbox_dir, "inbox")):
        for p in folder.rglob("*"):
            if p.is_file() and p.suffix in (".csv", ".xlsx"):
                frame = read_table(p).frame
                for r in frame.filter(pl.col("UPN") == pupil)["row_number"] if "UPN" in frame.columns else []:
                    expected_rows.add((location, p.name, r))
    found = {(f.location, Path(f.path).name, r) for f in result.files for r in f.rows["row_number"]}
    assert found == expected_rows and {loc for loc, _, _ in found} == {"archive", "quarantine", "held", "inbox"}
    assert result.reports == []  # the quarantine report names another row, not this pupil
    long = subject_access.file_rows_long(result)
    assert {"Surname", "DOB", "UPN"} <= set(long["field"]) and set(long.filter(pl.col("field") == "UPN")["value"]) == {pupil}
    # and only this pupil: no other UPN, no other pseudonym anywhere in the export
    everyone = set().union(*(_upns(p) for p in small_borough_dir.iterdir() if p.name.startswith(("school_census", "ks", "pupil_p"))))
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        keys = {k for (k,) in con.execute("SELECT DISTINCT pupil_key FROM raw.census").fetchall()}
    exported = b""
    for p in written:
        data = p.read_bytes()
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as z:
                data = b"".join(z.read(n) for n in z.namelist())
        exported += data
    assert pupil.encode() in exported and _key(pupil).encode() in exported
    assert [u for u in everyone - {pupil} if u.encode() in exported] == []
    assert [k for k in keys - {_key(pupil)} if k.encode() in exported] == []
    assert not (out.stat().st_mode & 0o077), "the export is readable by its owner only"


# --- erasure -----------------------------------------------------------------------------------------

def test_an_erased_pupil_is_gone_everywhere_and_an_old_file_does_not_bring_them_back(everywhere, pupil, small_borough_dir, tmp_path):
    s = _copy(everywhere.data_dir.parent, tmp_path / "root")
    earlier = subject_access.search(s, [pupil])  # an earlier request's export, still on disk
    subject_access.write_export(earlier, subject_access.export_folder(s, earlier))
    assert _files_mentioning(s.data_dir, pupil)
    result = erasure.erase(s, [pupil], reference="DPO-2026-014", reports=quarantine_reports)
    assert result.operation_id and len(result.archive_rewritten) >= 10
    assert len(result.quarantine_rewritten) == 1 and len(result.inbox_rewritten) == 1 and len(result.exports_deleted) == 1
    assert len(result.held_rewritten) == 1
    assert _files_mentioning(s.data_dir, pupil) == []
    key = _key(pupil)
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        tables = [f"raw.{t}" for t in PUPIL_SOURCES] + [f"{a}.{b}" for a, b in con.execute(
            "SELECT table_schema, table_name FROM information_schema.columns WHERE column_name = 'pupil_key' "
            "AND table_schema NOT IN ('raw', 'data_protection')").fetchall()]
        assert len(tables) > 8
        held = {t: con.execute(f"SELECT count(*) FROM {t} WHERE pupil_key = ?", [key]).fetchone()[0] for t in tables}
        assert held == dict.fromkeys(tables, 0)
        assert con.execute("SELECT count(*) FROM data_protection.erased_pupils WHERE pupil_key = ?", [key]).fetchone()[0] == 1
        # lineage: each rewritten upload's raw rows point at their own rows in the new archived file
        for a in (a for a in result.archive_rewritten if a["upload_id"]):
            source, archived = con.execute("SELECT source, archived_path FROM raw.uploads WHERE upload_id = ?", [a["upload_id"]]).fetchone()
            assert Path(archived).name.startswith(a["new_sha256"])
            rows = con.execute(f"SELECT DISTINCT row_number, pupil_key FROM raw.{source} WHERE upload_id = ?", [a["upload_id"]]).pl()
            table = canonicalise(s.archive_dir / Path(archived).name).frame.select("row_number", "upn").unique()
            joined = rows.join(table.with_columns(k=pseudonymise(table["upn"], TEST_KEY.encode())), on="row_number", how="left")
            assert joined.filter(pl.col("k") != pl.col("pupil_key")).height == 0 and joined["k"].null_count() == 0
    report = json.loads(next(s.quarantine_dir.glob("*/report.json")).read_text())
    assert report["rows"] == pl.read_csv(small_borough_dir / "school_census_2024-25_summer.csv", infer_schema_length=0).height - 1
    assert report["errors"] == 1 and report["findings"][0]["row"] > 1  # the other pupils' finding kept, renumbered

    # the old files come again: the pupil's rows are removed before anything is archived or loaded
    holding = [p for p in sorted(small_borough_dir.iterdir()) if p.suffix in (".csv", ".xlsx") and "UPN" in read_table(p).frame.columns
               and pupil in _upns(p)]
    copy_into_inbox(holding, s)
    said = []
    _ingest(s, said.append)
    assert sum("about erased pupils" in m for m in said) == len(holding)
    assert _files_mentioning(s.data_dir, pupil) == []
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        assert sum(con.execute(f"SELECT count(*) FROM raw.{t} WHERE pupil_key = ?", [key]).fetchone()[0] for t in PUPIL_SOURCES) == 0
    refused = [e for e in processing_log.read(s.data_dir) if e["action"] == "erased_rows_refused"]
    assert len(refused) == len(holding)
    # and the raw load refuses them too, whatever calls it
    table = canonicalise(holding[0])
    with connect(s.warehouse) as con:
        loaded = load_upload(con, table, "f" * 64, holding[0], TEST_KEY.encode())
    assert loaded.erased_rows_refused == int((table.frame["upn"] == pupil).sum()) > 0
    again = subject_access.search(s, [pupil])
    assert again.erased and not again.found


def test_post16_tracking_is_in_subject_access_and_erasure(everywhere, young_person, small_borough_dir, tmp_path):
    s = _copy(everywhere.data_dir.parent, tmp_path / "root")
    key = _key(young_person)
    snapshots = sorted(small_borough_dir.glob("post16_activity_*.csv"))
    # subject access: each monthly row in the warehouse, the model row, each archived snapshot file's row
    result = subject_access.search(s, [young_person])
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        expected = con.execute("SELECT upload_id, row_number FROM raw.post16_activity WHERE pupil_key = ? ORDER BY ALL",
                               [key]).fetchall()
        modelled = con.execute("SELECT count(*) FROM intermediate.int_post16_pupils WHERE pupil_key = ?", [key]).fetchone()[0]
    assert len(expected) == len(snapshots) and modelled == 2  # eight month-ends; aged 16, then 17
    assert sorted(result.raw["post16_activity"].select("upload_id", "row_number").rows()) == expected
    assert any(t.endswith("int_post16_pupils") for t in result.derived)
    archived = {Path(f.path).name for f in result.files if f.location == "archive"
                and canonicalise(Path(f.path)).source.name == "post16_activity"}
    assert len(archived) == len(snapshots)
    # erasure: gone from the tracking's raw rows, model rows and archived files, and kept out
    erased = erasure.erase(s, [young_person], reference="DPO-2026-015", reports=quarantine_reports)
    assert erased.operation_id and _files_mentioning(s.data_dir, young_person) == []
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        for table in ("raw.post16_activity", "intermediate.int_post16_pupils", "intermediate.int_cohort_stage_results"):
            assert con.execute(f"SELECT count(*) FROM {table} WHERE pupil_key = ?", [key]).fetchone()[0] == 0, table
    copy_into_inbox(snapshots, s)
    _ingest(s)
    assert _files_mentioning(s.data_dir, young_person) == []
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.post16_activity WHERE pupil_key = ?", [key]).fetchone()[0] == 0


# --- funded early education records (docs/methodology.md#funded-early-education) ---------------------------

EARLY_YEARS = ("early_years_census", "eligible_two_year_olds")


def test_early_years_records_are_found_and_erased(template, small_borough_dir, tmp_path):
    """A child on a list of eligible two-year-olds and in the January early years census: a subject access
    search finds their rows in both raw tables, and erasure removes them from both and from the files
    (before the purge: the small borough's early years files are all past a two-year period)."""
    d = small_borough_dir
    listed = set().union(*(_upns(p) for p in d.glob("eligible_two_year_olds_*.csv")))
    funded = set().union(*(_upns(p) for p in d.glob("early_years_census_*.csv")))
    child = sorted(listed & funded)[0]
    s = _copy(template, tmp_path / "root")
    found = subject_access.search(s, [child])
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        for t in EARLY_YEARS:
            expected = con.execute(f"SELECT upload_id, row_number FROM raw.{t} WHERE pupil_key = ? ORDER BY ALL",
                                   [_key(child)]).fetchall()
            assert expected and sorted(found.raw[t].select("upload_id", "row_number").rows()) == expected, t
    assert {f.upload["source"] for f in found.files if f.upload} >= set(EARLY_YEARS)  # and the archived files
    erasure.erase(s, [child], reference="DPO-2026-EY", reports=quarantine_reports)
    assert _files_mentioning(s.data_dir, child) == []
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        assert sum(con.execute(f"SELECT count(*) FROM raw.{t} WHERE pupil_key = ?", [_key(child)]).fetchone()[0]
                   for t in PUPIL_SOURCES) == 0


# --- killed at any step ------------------------------------------------------------------------------

KILLER = """
import json, os, signal, sys
from datetime import date
from config.settings import Settings
from ingest import erasure, retention
cfg = json.loads(sys.argv[1])
seen = 0
def progress(message):
    global seen
    if message.startswith(cfg["point"]):
        seen += 1
        if seen == cfg["nth"]:
            os.kill(os.getpid(), signal.SIGKILL)
settings = Settings(**cfg["settings"])
if cfg["op"] == "purge":
    retention.purge(settings, date.fromisoformat(cfg["as_of"]), cfg["years"], progress=progress)
else:
    erasure.erase(settings, [cfg["upn"]], progress=progress)
sys.exit(3)  # the point was never reached
"""


def _run(op: str, s: Settings, upn: str, as_of: str = AS_OF):
    if op == "purge":
        retention.purge(s, date.fromisoformat(as_of), YEARS)
    else:
        erasure.erase(s, [upn])


@pytest.fixture(scope="module")
def finished(template, pupil, tmp_path_factory) -> dict:
    """The state after each operation ran to the end, on its own copy."""
    out = {"before": _state(make_settings(template))}
    for op in ("purge", "erasure"):
        s = _copy(template, tmp_path_factory.mktemp(f"dp_{op}_done") / "root")
        _run(op, s, pupil)
        out[op] = _state(s)
    return out


@pytest.mark.parametrize("op, point, nth, expected", [
    ("purge", "plan recorded", 1, "before"),           # the journal written, the rewritten file made
    ("purge", "deleted", 1, "before"),                 # mid-transaction: one raw table's rows deleted
    ("purge", "committing", 1, "before"),              # every change made, COMMIT not yet run
    ("purge", "transaction committed", 1, "after"),    # committed, no file deleted yet
    ("purge", "deleted /", 2, "after"),                # half-way through deleting the files
    ("purge", "compacting", 1, "after"),               # the warehouse being copied without the deleted rows
    ("erasure", "files prepared", 1, "before"),
    ("erasure", "transaction committed", 1, "after"),
    ("erasure", "replaced", 1, "after"),
])
def test_an_operation_killed_at_any_step_leaves_the_state_before_or_after(template, pupil, finished, tmp_path, op, point, nth, expected):
    s = _copy(template, tmp_path / "root")
    cfg = {"op": op, "point": point, "nth": nth, "as_of": AS_OF, "years": YEARS, "upn": pupil,
           "settings": {"data_dir": str(s.data_dir), "warehouse_path": str(s.warehouse), "dagster_home": str(s.dagster_home),
                        "pseudonymisation_key": TEST_KEY}}
    proc = subprocess.run([sys.executable, "-c", KILLER, json.dumps(cfg)], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    leftover = journal.compaction_leftover(s.warehouse)
    assert journal.pending(s.data_dir) or leftover.exists(), "killed mid-operation: something is left for recovery"
    journal.recover_interrupted(s.data_dir, s.warehouse)
    assert journal.pending(s.data_dir) == [] and not leftover.exists()
    assert _state(s) == finished[expected if expected == "before" else op]
