"""Reading, canonicalising, archiving and loading uploads: real files, a real DuckDB file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from expectations.context import intake_checks
from ingest.archive import archive_file, sha256_file
from ingest.canonical import canonicalise
from ingest.inbox import process_inbox
from ingest.readers import UnreadableFile
from ingest.warehouse import connect, ensure_raw_schema, load_upload
from tests.conftest import copy_into_inbox

EXPECTED_SOURCES = {
    "school_census_2023-24_autumn.csv": ("census", None),
    "attendance_2023-24_spring.csv": ("attendance", None),
    "eyfsp_2023-24.csv": ("attainment", "eyfsp"),
    "phonics_2023-24.csv": ("attainment", "phonics"),
    "ks1_2022-23.csv": ("attainment", "ks1"),
    "ks2_2023-24.xlsx": ("attainment", "ks2"),
    "ks4_2023-24.csv": ("attainment", "ks4"),
    "pupil_premium_2023-24.xlsx": ("pupil_premium", None),
    "schools.csv": ("schools", None),
    "learning_communities.csv": ("learning_communities", None),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_SOURCES))
def test_each_generated_file_is_recognised_and_types_cleanly(small_borough_dir, name):
    table = canonicalise(small_borough_dir / name)
    assert (table.source.name, table.source.stage) == EXPECTED_SOURCES[name]
    assert table.findings == []
    assert table.frame.height > 0


def test_ks2_workbook_becomes_long_rows_with_codes_kept(small_borough_dir):
    t = canonicalise(small_borough_dir / "ks2_2023-24.xlsx")
    assert set(t.frame["subject"].unique()) == {"reading", "maths", "gps", "writing"}
    writing = set(t.frame.filter(pl.col("subject") == "writing")["result"].unique())
    assert writing <= {"GDS", "EXS", "WTS", "PK1", "PK2", "PK3", "PK4", "PK5", "PK6"} and "EXS" in writing
    assert t.frame["academic_year"].unique().to_list() == [2023]


def test_pupil_premium_header_found_below_the_title_block(small_borough_dir):
    t = canonicalise(small_borough_dir / "pupil_premium_2023-24.xlsx")
    assert t.raw.header_row == 4
    assert t.frame["row_number"].min() == 5  # the first data row as Excel shows it


def test_messy_but_valid_csv_is_read(tmp_path, small_borough_dir):
    # Windows-1252, tab separated, MIS alias headers, accented names
    src = pl.read_csv(small_borough_dir / "attendance_2023-24_spring.csv", infer_schema_length=0).head(20)
    src = src.with_columns(Forename=pl.lit("Zoë"), Surname=pl.lit("Sánchez"))
    src = src.rename({"PossibleSessions": "Possible Sessions", "SessionsAuthorisedAbsence": "Authorised Absences",
                      "SessionsUnauthorisedAbsence": "Unauthorised Absences", "AcademicYear": "Academic Year"})
    text = src.write_csv(separator="\t")
    p = tmp_path / "attendance_export.csv"
    p.write_bytes(text.encode("cp1252"))
    t = canonicalise(p)
    assert t.source.name == "attendance" and t.raw.encoding == "windows-1252"
    assert t.findings == [] and t.frame.height == 20
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + src.write_csv().encode("utf-8"))
    assert canonicalise(bom).raw.encoding == "utf-8-sig"


def test_unreadable_files_name_the_file_and_the_problem(tmp_path):
    empty = tmp_path / "census_autumn.csv"
    empty.write_bytes(b"")
    with pytest.raises(UnreadableFile, match="census_autumn.csv: the file is empty"):
        canonicalise(empty)
    junk = tmp_path / "notes.csv"
    junk.write_text("hello,world\n1,2\n")
    with pytest.raises(UnreadableFile, match="notes.csv: cannot tell which source"):
        canonicalise(junk)
    old = tmp_path / "results.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(UnreadableFile, match=r"\.xls\) format"):
        canonicalise(old)


def test_bad_cells_become_findings_with_row_and_column(tmp_path, small_borough_dir):
    src = pl.read_csv(small_borough_dir / "school_census_2023-24_autumn.csv", infer_schema_length=0).head(10)
    src = src.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("31/02/2015")).otherwise(pl.col("DOB")).alias("DOB"))
    p = tmp_path / "census.csv"
    src.write_csv(p)
    t = canonicalise(p)
    assert [(f.row, f.column, f.value, f.rule) for f in t.errors] == [(5, "DOB", "31/02/2015", "date")]


def test_archive_is_content_addressed_and_read_only(tmp_path, small_borough_dir):
    f = small_borough_dir / "schools.csv"
    sha, archived = archive_file(f, tmp_path / "archive")
    assert archived.name == f"{sha}.csv" and sha == sha256_file(f)
    assert archived.read_bytes() == f.read_bytes()
    assert not (archived.stat().st_mode & 0o222)
    assert archive_file(f, tmp_path / "archive") == (sha, archived)


def _load(con, path: Path, key=b"k"):
    t = canonicalise(path)
    sha = sha256_file(path)
    return load_upload(con, t, sha, path, key)


def test_loading_the_same_file_twice_adds_nothing(tmp_path, small_borough_dir):
    con = connect(tmp_path / "w.duckdb")
    f = small_borough_dir / "school_census_2023-24_autumn.csv"
    first = _load(con, f)
    second = _load(con, f)
    assert first.status == "loaded" and second.status == "duplicate"
    assert con.execute("SELECT count(*) FROM raw.census").fetchall()[0][0] == first.rows
    assert con.execute("SELECT count(*) FROM raw.uploads").fetchall()[0][0] == 1


def test_rows_carry_lineage_and_no_upn(tmp_path, small_borough_dir):
    con = connect(tmp_path / "w.duckdb")
    f = small_borough_dir / "school_census_2023-24_autumn.csv"
    _load(con, f)
    upns = set(pl.read_csv(f, infer_schema_length=0)["UPN"])
    rows = con.sql("SELECT * FROM raw.census").pl()
    assert rows["sha256"].unique().to_list() == [sha256_file(f)]
    assert rows["source_file"].unique().to_list() == [f.name]
    assert rows["row_number"].min() == 2 and rows["row_number"].max() == rows.height + 1  # file lines
    assert "upn" not in rows.columns and not (set(rows["pupil_key"]) & upns)
    assert "dob" not in rows.columns and "surname" not in rows.columns


def test_a_corrected_file_supersedes_the_same_school_and_term_only(tmp_path, small_borough_dir):
    con = connect(tmp_path / "w.duckdb")
    f = small_borough_dir / "school_census_2023-24_autumn.csv"
    full = _load(con, f)
    src = pl.read_csv(f, infer_schema_length=0)
    school = src["LAESTAB"][0]
    corrected = src.filter(pl.col("LAESTAB") == school).head(-1)  # one pupil fewer
    p = tmp_path / "census_correction.csv"
    corrected.write_csv(p)
    fix = _load(con, p)
    assert fix.superseded_uploads == (full.upload_id,)
    assert fix.superseded_rows == corrected.height + 1
    total = con.execute("SELECT count(*) FROM raw.census").fetchall()[0][0]
    assert total == full.rows - 1
    other = con.execute("SELECT count(*) FROM raw.census WHERE laestab <> ? AND upload_id = ?",
                        [int(school), full.upload_id]).fetchall()[0][0]
    assert other == src.filter(pl.col("LAESTAB") != school).height
    rec = con.execute("SELECT superseded_upload_id, superseded_by_upload_id, rows_removed FROM raw.supersessions").fetchall()
    assert rec == [(full.upload_id, fix.upload_id, corrected.height + 1)]


class _FailingConnection:
    """A real DuckDB connection that fails when the upload is being recorded (after the rows went in)."""

    def __init__(self, con):
        self._con = con

    def execute(self, sql, *args):
        if sql.startswith("INSERT INTO raw.uploads"):
            raise RuntimeError("simulated crash while recording the upload")
        return self._con.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._con, name)


def test_an_interrupted_load_leaves_no_partial_rows(tmp_path, small_borough_dir):
    path = tmp_path / "w.duckdb"
    con = connect(path)
    ensure_raw_schema(con)
    with pytest.raises(RuntimeError, match="simulated crash"):
        _load(_FailingConnection(con), small_borough_dir / "school_census_2023-24_autumn.csv")
    con.close()
    with duckdb.connect(str(path), read_only=True) as check:
        assert check.execute("SELECT count(*) FROM raw.census").fetchall()[0][0] == 0
        assert check.execute("SELECT count(*) FROM raw.uploads").fetchall()[0][0] == 0


def test_inbox_flow_loads_valid_files_and_quarantines_broken_ones(settings, small_borough_dir):
    copy_into_inbox([small_borough_dir / "schools.csv", small_borough_dir / "learning_communities.csv"], settings)
    broken = settings.inbox_dir / "mystery.csv"
    broken.write_text("a,b\n1,2\n")
    result = process_inbox(settings, intake_checks(None, validate=False), None)
    assert sorted(r.source for r in result.loaded) == ["learning_communities", "schools"]
    assert [q[0] for q in result.quarantined] == ["mystery.csv"]
    assert list(settings.inbox_dir.iterdir()) == []
    quarantined = list(settings.quarantine_dir.glob("*/mystery.csv"))
    assert len(quarantined) == 1 and (quarantined[0].parent / "report.txt").exists()
    assert len(list(settings.archive_dir.iterdir())) == 3  # every upload archived, broken or not


def test_invalid_upload_is_quarantined_with_readable_reports_and_nothing_loaded(settings, small_borough_dir):
    src = pl.read_csv(small_borough_dir / "ks4_2023-24.csv", infer_schema_length=0)
    bad = settings.inbox_dir / "ks4_results.csv"
    src.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("A*")).otherwise(pl.col("Grade")).alias("Grade")).write_csv(bad)
    result = process_inbox(settings, intake_checks(settings.key), ["attainment"])
    assert result.loaded == [] and result.quarantined[0][0] == "ks4_results.csv"
    assert "row 2, column Grade" in result.quarantined[0][1]
    folder = next(settings.quarantine_dir.iterdir())
    assert {p.name for p in folder.iterdir()} == {"ks4_results.csv", "report.txt", "report.json", "report.html"}
    assert "gcse_grade" in (folder / "report.txt").read_text()
    assert len(list(settings.archive_dir.iterdir())) == 1
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.attainment").fetchall()[0][0] == 0


def test_inbox_sensor_asks_for_a_refresh_once_per_new_set_of_files(settings, small_borough_dir):
    import dagster as dg

    from orchestration.defs.automation import inbox_sensor

    ctx = dg.build_sensor_context(cursor=None, resources={"settings": settings})
    assert isinstance(inbox_sensor(ctx), dg.SkipReason)
    copy_into_inbox([small_borough_dir / "schools.csv"], settings)
    first = inbox_sensor(ctx)
    assert isinstance(first, dg.RunRequest)
    again = inbox_sensor(dg.build_sensor_context(cursor=ctx.cursor, resources={"settings": settings}))
    assert isinstance(again, dg.SkipReason)


def test_sending_a_superseded_file_again_restores_it(tmp_path, small_borough_dir):
    con = connect(tmp_path / "w.duckdb")
    original = small_borough_dir / "learning_communities.csv"
    changed = tmp_path / "learning_communities.csv"
    pl.read_csv(original).with_columns(pl.col("LearningCommunityName") + " (renamed)").write_csv(changed)
    first = _load(con, original)
    assert _load(con, changed).superseded_uploads == (first.upload_id,)
    again = _load(con, original)
    assert again.status == "loaded"
    names = [r[0] for r in con.execute("SELECT learning_community_name FROM raw.learning_communities").fetchall()]
    assert names and not any("renamed" in n for n in names)
    assert _load(con, original).status == "duplicate"


def test_files_validated_together_are_judged_one_by_one(settings, small_borough_dir):
    """Uploads of a source share one validation run, but each is loaded or quarantined on its
    own findings: the same pupils in two uploads are not duplicates, and one bad file does not
    hold back a good one."""
    src = pl.read_csv(small_borough_dir / "ks4_2023-24.csv", infer_schema_length=0)
    src.write_csv(settings.inbox_dir / "ks4_a.csv")
    schools = src["LAESTAB"].unique().sort()
    # the same pupils again, for a different school set: a second, good upload
    src.filter(pl.col("LAESTAB") == schools[0]).write_csv(settings.inbox_dir / "ks4_b.csv")
    src.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("A*")).otherwise(pl.col("Grade")).alias("Grade")
                     ).write_csv(settings.inbox_dir / "ks4_c.csv")
    messages: list[str] = []
    result = process_inbox(settings, intake_checks(settings.key), ["attainment"], progress=messages.append)
    assert any(m.startswith("validating 3 ") for m in messages)  # one run for the three files
    assert sorted(r.file for r in result.loaded + result.duplicates) == ["ks4_a.csv", "ks4_b.csv"]
    assert [q[0] for q in result.quarantined] == ["ks4_c.csv"]
    assert "row 5, column Grade" in result.quarantined[0][1]


def test_a_school_far_from_its_last_upload_gets_a_warning(settings, small_borough_dir):
    """A termly census where one school sent half its pupils: a warning naming that school (only
    that school: the others match their last upload), and the file still loads."""
    copy_into_inbox([small_borough_dir / "schools.csv", small_borough_dir / "learning_communities.csv",
                     small_borough_dir / "school_census_2023-24_autumn.csv"], settings)
    checks = intake_checks(settings.key)
    assert process_inbox(settings, checks, None).quarantined == []
    spring = pl.read_csv(small_borough_dir / "school_census_2023-24_spring.csv", infer_schema_length=0)
    school = spring["LAESTAB"].value_counts(sort=True)["LAESTAB"][0]
    mine = spring.filter(pl.col("LAESTAB") == school)
    spring.filter(pl.col("LAESTAB") != school).vstack(mine.head(mine.height // 2)).write_csv(
        settings.inbox_dir / "school_census_2023-24_spring.csv")
    result = process_inbox(settings, checks, None)
    assert [r.file for r in result.loaded] == ["school_census_2023-24_spring.csv"]
    [(file, findings)] = result.warned
    assert file == "school_census_2023-24_spring.csv"
    assert [f.value.split(":")[0] for f in findings if f.rule == "school_row_count_change"] == [school]
