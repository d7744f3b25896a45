"""The scorecard's one reader of the publication: typed figures that say why they are not shown,
the current publication resolved per request, and who may open which file. Real DuckDB files in
a publication folder laid out as publish/ lays it out."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from scorecard.publication import (
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    SHOWN,
    WITHHELD,
    NotPermitted,
    Publications,
    figure,
    year_label,
)

GAP_COLUMNS = ("time_period INTEGER, geographic_level VARCHAR, old_la_code VARCHAR, la_name VARCHAR, "
               "learning_community_code VARCHAR, learning_community_name VARCHAR, measure VARCHAR, "
               "disadvantaged_value VARCHAR, other_value VARCHAR, gap VARCHAR, national_gap DOUBLE")


class Reader:
    def __init__(self, analyst: bool = False, communities: tuple[str, ...] = ()):
        self.is_analyst = analyst
        self.communities = frozenset(communities)


def _database(path: Path, lcs: tuple[str, ...], gap: str = "12.5") -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE dim_learning_communities (learning_community_code VARCHAR, learning_community_name VARCHAR, "
                    "old_la_code VARCHAR, collaborative VARCHAR, schools BIGINT)")
        con.execute(f"CREATE TABLE learning_community_disadvantage_gaps ({GAP_COLUMNS})")
        for lc in lcs:
            con.execute("INSERT INTO dim_learning_communities VALUES (?, ?, '372', 'North', 4)", [lc, f"{lc} community"])
            con.execute("INSERT INTO learning_community_disadvantage_gaps VALUES "
                        "(202425, 'Learning community', '372', 'Rotherham', ?, ?, 'ks2_rwm_expected', '40.0', '52.5', ?, 22.0), "
                        "(202324, 'Learning community', '372', 'Rotherham', ?, ?, 'ks2_rwm_expected', 'c', 'c', 'c', NULL)",
                        [lc, f"{lc} community", gap, lc, f"{lc} community"])
        con.execute("INSERT INTO learning_community_disadvantage_gaps VALUES "
                    "(202425, 'Local authority', '372', 'Rotherham', NULL, NULL, 'ks2_rwm_expected', '41.0', '60.0', '19.0', 22.0)")


def publish_folder(published: Path, pub_id: str, lcs: tuple[str, ...] = ("LC01", "LC02"), gap: str = "12.5") -> Path:
    """A publication as publish/ writes it (the parts the scorecard reads), pointed to by current."""
    folder = published / pub_id
    (folder / "by_learning_community").mkdir(parents=True)
    _database(folder / "pathways.duckdb", lcs, gap)
    for lc in lcs:
        _database(folder / "by_learning_community" / f"{lc}.duckdb", (lc,), gap)
        (folder / "by_learning_community" / f"{lc}.xlsx").write_bytes(b"workbook")
    (folder / "manifest.json").write_text(json.dumps({
        "publication_id": pub_id, "created_at": "2026-11-20T09:30:00+00:00",
        "suppression": {"threshold": 5, "min_count": 3},
        "extracts": {lc: [f"{lc}.duckdb", f"{lc}.xlsx"] for lc in lcs}}))
    tmp = published / f".current-{pub_id}"
    os.symlink(pub_id, tmp)
    os.replace(tmp, published / "current")
    return folder


@pytest.fixture
def published(tmp_path) -> Path:
    root = tmp_path / "published"
    root.mkdir()
    publish_folder(root, "20261120T093000000000Z")
    return root


def test_figures_as_text_carry_their_ees_symbol_and_reason():
    assert figure("12.5") == figure(12.5) and figure("12.5").number == 12.5 and figure("12.5").status == SHOWN
    withheld = figure("c", withheld_reason="Withheld: 5 or fewer pupils.")
    assert withheld.status == WITHHELD and withheld.number is None and withheld.reason == "Withheld: 5 or fewer pupils."
    assert figure("z").status == NOT_APPLICABLE and figure("z").reason
    assert figure("x").status == NOT_AVAILABLE
    assert figure("low").shown and figure("low").value == "low"
    assert figure("narrowing").value == "narrowing"


def test_figures_stored_as_numbers_with_a_reason_beside_them_read_the_same():
    # the representation the publication may move to: NULL plus a reason column
    assert figure(None, "c").status == WITHHELD
    assert figure(None, "z").status == NOT_APPLICABLE
    assert figure(None, "Fewer than 6 pupils").reason == "Fewer than 6 pupils"
    assert figure(None).status == NOT_AVAILABLE
    assert figure(7).number == 7.0


def test_a_companion_reason_column_is_read_with_its_figure(tmp_path):
    db = tmp_path / "new.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(f"CREATE TABLE learning_community_disadvantage_gaps ({GAP_COLUMNS.replace('gap VARCHAR', 'gap DOUBLE')}, "
                    "gap_reason VARCHAR)")
        con.execute("INSERT INTO learning_community_disadvantage_gaps VALUES (202425, 'Learning community', '372', 'R', "
                    "'LC01', 'One', 'ks2_rwm_expected', '1', '2', NULL, NULL, 'Fewer than 6 disadvantaged pupils')")
    from scorecard.publication import Source

    row = Source(db, "withheld").gaps()[0]
    assert row.gap.status == WITHHELD and row.gap.reason == "Fewer than 6 disadvantaged pupils"
    assert row.rolling_gap.status == NOT_AVAILABLE and row.rolling_gap.reason == "Not in this publication."
    assert row.national_gap.status == NOT_AVAILABLE and "England" in row.national_gap.reason


def test_the_current_publication_is_read_typed_and_withheld_cells_say_why(published):
    pub = Publications(published).current()
    assert pub.id == "20261120T093000000000Z" and pub.created_label == "20 November 2026, 09:30"
    rows = pub.community(Reader(communities=("LC01",)), "LC01").gaps(("ks2_rwm_expected",))
    latest = [r for r in rows if r.time_period == 202425 and r.geo == "LC01"][0]
    assert latest.gap.number == 12.5 and latest.disadvantaged.value.number == 40.0 and latest.national_gap.number == 22.0
    older = [r for r in rows if r.time_period == 202324][0]
    assert older.gap.status == WITHHELD and "5 or fewer pupils" in older.gap.reason
    assert [r.geo for r in rows if r.time_period == 202425] == [None, "LC01"]  # the authority row comes with the extract
    assert year_label(202425) == "2024/25"


def test_a_swapped_publication_is_seen_by_the_next_request_and_a_request_keeps_its_own(published):
    pubs = Publications(published)
    reader = Reader(communities=("LC01",))
    first = pubs.current()
    before = first.community(reader, "LC01").gaps()
    publish_folder(published, "20261121T093000000000Z", gap="3.5")
    second = pubs.current()
    assert second.id == "20261121T093000000000Z"
    assert [g.gap.number for g in second.community(reader, "LC01").gaps() if g.time_period == 202425 and g.geo] == [3.5]
    # a request that resolved the first publication still reads the first, whole
    assert [g.gap.number for g in first.community(reader, "LC01").gaps() if g.time_period == 202425 and g.geo] == [12.5]
    assert before == first.community(reader, "LC01").gaps()


def test_a_member_opens_only_their_own_communities_extracts(published):
    pub = Publications(published).current()
    member = Reader(communities=("LC01",))
    assert pub.community(member, "LC01").path.name == "LC01.duckdb"
    for code in ("LC02", "lc01", "../LC02", "LC01/../LC02", "LC01.duckdb", "", "LC03", "LC0%31"):
        with pytest.raises(NotPermitted):
            pub.community(member, code)
    with pytest.raises(NotPermitted):
        pub.whole(member)
    with pytest.raises(NotPermitted):
        pub.download(member, "LC02", ".xlsx")
    with pytest.raises(NotPermitted):
        pub.download(member, "LC01", ".json")
    assert pub.download(member, "LC01", ".xlsx").name == "LC01.xlsx"
    assert pub.visible_codes(member) == ["LC01"]
    analyst = Reader(analyst=True)
    assert pub.whole(analyst).path.name == "pathways.duckdb"
    assert pub.community(analyst, "LC02").path.name == "LC02.duckdb"
    assert pub.visible_codes(analyst) == ["LC01", "LC02"]


def test_a_community_missing_from_the_manifest_is_not_opened_even_if_its_file_exists(published):
    folder = published / "20261120T093000000000Z" / "by_learning_community"
    os.chmod(folder, 0o755)
    _database(folder / "LC09.duckdb", ("LC09",))
    pub = Publications(published).current()
    with pytest.raises(NotPermitted):
        pub.community(Reader(analyst=True), "LC09")


def test_a_figure_is_shown_to_its_measures_decimal_places(tmp_path):
    # an exclusion rate per 100 pupils to 2 dp (0.13, not 0.1), a percentage to 1: the places are the
    # published measures table's, for the figures the publication's manifest says follow them
    from scorecard.app import fig
    from scorecard.publication import Source

    db = tmp_path / "pub.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE measures (measure VARCHAR, measure_label VARCHAR, stage VARCHAR, stage_order INTEGER, "
                    "measure_type VARCHAR, higher_is_better BOOLEAN, unit VARCHAR, decimals INTEGER)")
        con.execute("INSERT INTO measures VALUES ('permanent_exclusion_rate', 'PEX', 'exclusions', 7, 'rate', false, "
                    "'per 100 pupils', 2), ('ks2_rwm_expected', 'RWM', 'ks2', 4, 'percentage', true, '%', 1)")
        con.execute(f"CREATE TABLE learning_community_disadvantage_gaps ({GAP_COLUMNS})")
        con.execute("INSERT INTO learning_community_disadvantage_gaps VALUES "
                    "(202425, 'Learning community', '372', 'R', 'LC01', 'One', 'permanent_exclusion_rate', '0.2', '0.1', '0.1', NULL), "
                    "(202425, 'Learning community', '372', 'R', 'LC01', 'One', 'ks2_rwm_expected', '50.2', '60', '9.8', NULL)")
    rows = {r.measure: r for r in Source(db, "withheld", frozenset({"disadvantaged_value", "other_value", "gap"})).gaps()}
    pex, rwm = rows["permanent_exclusion_rate"], rows["ks2_rwm_expected"]
    assert str(fig(pex.disadvantaged.value, 1)) == "0.20" and str(fig(pex.gap, 1)) == "0.10"
    assert str(fig(rwm.other.value, 1)) == "60.0" and str(fig(rwm.gap, 1)) == "9.8"
    # a figure the manifest does not name keeps the page's places
    plain = {r.measure: r for r in Source(db, "withheld").gaps()}
    assert str(fig(plain["permanent_exclusion_rate"].gap, 1)) == "0.1"
