"""A good borough plus one file of every breaking kind, in ONE refresh: every good file loads, every
bad file is quarantined (or held) with the right rule, nothing crashes, and the publication holds
exactly the good files' figures (the same as the session's refresh of the good borough alone).
Two `pathways refresh` are started together: one runs, the other says a refresh is running."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl

from ingest.archive import sha256_file
from ingest.status import intake_status
from publish.masking import as_symbols
from tests.conftest import TEST_KEY, copy_into_inbox, make_settings
from tests.unit.expectations.test_broken_files import BASES, CASES, FILE_CASES, _make, _read_base, write

ROOT = Path(__file__).resolve().parents[2]


def _env(settings) -> dict[str, str]:
    return {**os.environ, "PATHWAYS_DAGSTER_HOME": str(settings.dagster_home), "PATHWAYS_DATA_DIR": str(settings.data_dir),
            "PATHWAYS_WAREHOUSE_PATH": str(settings.warehouse), "PATHWAYS_PSEUDONYMISATION_KEY": TEST_KEY,
            "PATHWAYS_INBOX_SETTLE_SECONDS": "0"}


def _broken_files(small_borough_dir: Path, folder: Path) -> dict[str, tuple[str, str]]:
    """Write one file of each breaking kind into ``folder``: file name -> (expected fate, rule)."""
    expected: dict[str, tuple[str, str]] = {}
    bases = {s: _read_base(small_borough_dir, s) for s in BASES}
    for case_id, case in CASES.items():
        if case.severity != "error":
            continue  # warnings load: they are not broken
        for fmt in ("csv", "xlsx"):
            name = f"broken-{case_id}.{fmt}"
            write(case.mutate(bases[case.source]), folder / name)
            expected[name] = ("quarantined", case.rule)
    for case_name, (_, rule) in FILE_CASES.items():
        scratch = folder / f".scratch-{case_name}"
        scratch.mkdir()
        made, _ = _make(case_name, small_borough_dir, scratch)
        name = f"broken-{case_name}-{made.name}"
        shutil.move(made, folder / name)
        scratch.rmdir()
        expected[name] = ("quarantined", rule)
    # valid files that would remove too much: held until confirmed
    schools = pl.read_csv(small_borough_dir / "schools.csv", infer_schema_length=0)
    schools.head(2).write_csv(folder / "schools_short.csv")
    expected["schools_short.csv"] = ("held", "reference_removal")
    census = pl.read_csv(small_borough_dir / "school_census_2023-24_autumn.csv", infer_schema_length=0)
    school = census["LAESTAB"].value_counts(sort=True)["LAESTAB"][0]
    mine = census.filter(pl.col("LAESTAB") == school)
    mine.head(mine.height // 3).write_csv(folder / "school_census_2023-24_autumn_partial.csv")
    expected["school_census_2023-24_autumn_partial.csv"] = ("held", "school_term_shrink")
    data = (small_borough_dir / "school_census_2023-24_spring.csv").read_bytes()
    (folder / "school_census_2023-24_spring_cut.csv").write_bytes(data[: len(data) // 2])
    expected["school_census_2023-24_spring_cut.csv"] = ("quarantined", "csv_last_line_cut")
    (folder / "report.txt").write_text("not,a,return\n1,2,3\n")
    expected["report.txt"] = ("quarantined", "source_unknown")
    return expected


def _tables(db: Path, schema: str | None = None) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(db), read_only=True) as con:
        names = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables WHERE ? IS NULL OR "
                                           "table_schema = ? ORDER BY 1", [schema, schema]).fetchall()]
        return {t: con.sql(f"SELECT * FROM {schema + '.' if schema else ''}{t}").pl() for t in names}


def _same_shown_cells(mine: pl.DataFrame, reference: pl.DataFrame) -> bool:
    """The same rows with the same figures, withheld cells included: suppression depends on the
    figures alone, never on row order (docs/methodology.md#secondary-suppression), so the same marts
    always withhold the same cells."""
    if mine.height != reference.height or mine.columns != reference.columns:
        return False
    a, b = (as_symbols(f).with_columns(pl.all().cast(pl.String)) for f in (mine, reference))
    return a.sort(a.columns, nulls_last=True).equals(b.sort(b.columns, nulls_last=True))


def test_one_refresh_of_a_good_borough_and_every_broken_kind(refreshed, small_borough_dir, tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("mixed"))
    settings.inbox_dir.mkdir(parents=True)
    good = sorted(small_borough_dir.iterdir())
    copy_into_inbox(good, settings)
    expected = _broken_files(small_borough_dir, settings.inbox_dir)
    ignored = [".hidden.csv", "~$schools.xlsx", "_draft_census.csv", "census.csv.partial"]
    for name in ignored:
        shutil.copy(small_borough_dir / "school_census_2023-24_autumn.csv", settings.inbox_dir / name)

    still_copying = settings.inbox_dir / "attendance_2025-26_autumn.csv"
    writer = open(still_copying, "w")  # a copy going on all through the refresh  # noqa: SIM115
    writer.write("UPN,Surname,Forename,DOB,LAESTAB,PossibleSessions")
    writer.flush()
    # two refreshes started together: one runs, the other says so at once and starts nothing
    procs = [subprocess.Popen([sys.executable, "-m", "pathways.cli", "refresh"], cwd=ROOT, env=_env(settings),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=900) for p in procs]
    status = intake_status(settings)  # while the copy is still going on
    writer.close()
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 75], [o[1][-3000:] for o in outs]
    loser = next(o for p, o in zip(procs, outs) if p.returncode == 75)
    assert "a refresh is already running (started at" in loser[1] and "pid " in loser[1]
    winner = next(o for p, o in zip(procs, outs) if p.returncode == 0)[0]

    # every good file loaded, and nothing else
    manifest = json.loads((settings.published_dir / "current" / "manifest.json").read_text())
    assert {u["source_file"]: u["sha256"] for u in manifest["source_uploads"]} == {p.name: sha256_file(p) for p in good}
    # every bad file quarantined or held, with the right rule, its report beside it
    fates: dict[str, tuple[str, set[str]]] = {}
    for kind, folder in (("quarantined", settings.quarantine_dir), ("held", settings.held_dir)):
        for report in folder.glob("*/report.json"):
            r = json.loads(report.read_text())
            severity = "error" if kind == "quarantined" else "hold"
            fates[r["file"]] = (kind, {f["rule"] for f in r["findings"] if f["severity"] == severity})
            assert (report.parent / r["file"]).exists() or (report.parent / f"upload-{r['file']}").exists()
    assert set(fates) == set(expected)
    wrong = {name: (fates[name], want) for name, want in expected.items()
             if fates[name][0] != want[0] or want[1] not in fates[name][1]}
    assert wrong == {}
    # what is left in the inbox is accounted for: ignored (and why) or still arriving
    left = {f.file: (f.state, f.reason) for f in status.inbox}
    assert {n: s for n, (s, _) in left.items()} == {**dict.fromkeys(ignored, "ignored"), still_copying.name: "arriving"}
    assert "has it open for writing" in left[still_copying.name][1]
    assert (len(status.quarantined), len(status.held)) == (sum(v[0] == "quarantined" for v in expected.values()),
                                                           sum(v[0] == "held" for v in expected.values()))
    assert f"{len(good)} loaded" in winner and "quarantined" in winner and "pathways confirm" in winner

    # exactly the good files' figures: the marts equal, table for table, what the good borough alone gives,
    # and so does every figure the publication shows
    mine, reference = (_tables(s.warehouse, "marts") for s in (settings, refreshed))
    assert set(mine) == set(reference) and mine
    for table, frame in reference.items():
        assert mine[table].sort(frame.columns).equals(frame.sort(frame.columns)), table
    mine, reference = (_tables(s.current_publication) for s in (settings, refreshed))
    assert set(mine) == set(reference)
    for table, frame in reference.items():
        assert _same_shown_cells(mine[table], frame), table

    # Dagster recorded the turned-away files on the raw assets, as a warning check that did not block
    import dagster as dg

    from pathways.cli import dagster_instance

    with dagster_instance(settings) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["raw", "census"]))
        meta = event.asset_materialization.metadata
        assert meta["files_quarantined"].value > 0 and meta["files_held"].value == 1
        assert "school_census_2023-24_autumn_partial.csv" in meta["turned_away"].value

