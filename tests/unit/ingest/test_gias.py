"""GIAS downloads as they are published (tests/fixtures/gias: the full 2025 header, Windows-1252, CRLF, no
line break after the last row, unquoted numbers): recognised without --source, read without renaming,
other authorities left out with a count, and bad rows named by row and column."""

from __future__ import annotations

import shutil
from pathlib import Path

from expectations.runner import validate_table
from ingest.canonical import canonicalise, peek_source, restrict_to_authority
from ingest.gias import ESTABLISHMENT_COLUMNS
from ingest.readers import read_headers

GIAS = Path(__file__).resolve().parents[2] / "fixtures" / "gias"
EXTRACT = GIAS / "edubasealldata20260401.csv"
LINKS = GIAS / "links_edubasealldata20260401.csv"


def test_the_fixture_is_a_gias_download_byte_for_byte():
    data = EXTRACT.read_bytes()
    assert b"\x92" in data and b"\xe9" in data  # cp1252 right single quote and e-acute
    assert b"\r\n" in data and not data.endswith(b"\n")
    assert read_headers(EXTRACT) == list(ESTABLISHMENT_COLUMNS) and len(ESTABLISHMENT_COLUMNS) == 135


def test_gias_files_are_recognised_without_naming_the_source():
    assert peek_source(EXTRACT).name == "schools"
    assert peek_source(LINKS).name == "school_links"
    assert peek_source(GIAS / "community_membership.csv").name == "community_membership"


def test_the_extract_loads_the_authoritys_establishments_with_type_and_phase():
    table = restrict_to_authority(canonicalise(EXTRACT), 372)
    f = table.frame.sort("urn")
    assert f["laestab"].to_list() == [3722001, 3722002, 3724001, 3727001, 3726001, 3723301]
    assert f.filter(f["urn"] == 146900)["school_name"][0] == "St Mary\u2019s Catholic Primary School"
    assert f.filter(f["urn"] == 106904)["school_name"][0] == "Rotherham Independent Caf\u00e9 School"
    assert f.filter(f["urn"] == 146900).select("establishment_type", "phase").row(0) == ("Academy converter", "Primary")
    assert str(f.filter(f["urn"] == 106900)["close_date"][0]) == "2019-08-31"
    rules = {x.rule: x for x in table.findings}
    # the published columns Pathways does not use are GIAS's own: no warning about any of them
    assert set(rules) == {"other_authority_establishments", "no_establishment_number"}
    assert rules["other_authority_establishments"].message.startswith("2 establishments of 1 other authorities ignored")
    assert rules["no_establishment_number"].message.startswith("1 of LA 372's establishments")
    assert not [x for x in validate_table(table) if x.severity == "error"]


def test_links_keep_every_link_type():
    table = canonicalise(LINKS)
    assert table.frame["link_type"].to_list() == ["Sixth Form Centre Link", "Successor", "Sixth Form Centre Link",
                                                  "Predecessor"]
    assert str(table.frame["link_established_date"][1]) == "2019-09-01"
    assert not table.findings


def test_a_bad_row_is_named_by_row_and_column(tmp_path):
    bad = tmp_path / "links_edubasealldata20260402.csv"
    bad.write_bytes(LINKS.read_bytes().replace(b'\r\n106900,146900', b'\r\n106900,14690'))
    [finding] = [x for x in validate_table(canonicalise(bad)) if x.severity == "error"]
    assert (finding.rule, finding.row, finding.column, finding.value) == ("urn_number", 3, "LinkURN", "14690")
    membership = tmp_path / "membership.csv"
    shutil.copy(GIAS / "community_membership.csv", membership)
    membership.write_text(membership.read_text().replace("3727001,Newman School,LC02", "3727001,Newman School,"))
    [finding] = [x for x in validate_table(canonicalise(membership)) if x.severity == "error"]
    assert (finding.rule, finding.row, finding.column) == ("learning_community_missing", 5, "Learning Community Code")


def test_a_cut_gias_file_is_still_refused(tmp_path):
    cut = tmp_path / "edubasealldata20260403.csv"
    cut.write_bytes(EXTRACT.read_bytes()[:-40])  # stops inside the last row
    from ingest.readers import UnreadableFile, read_table

    try:
        read_table(cut)
    except UnreadableFile as e:
        assert e.rule == "csv_last_line_cut"
    else:
        raise AssertionError("a GIAS file cut short was read")
