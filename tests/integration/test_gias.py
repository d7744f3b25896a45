"""A GIAS extract, its links file and a membership file keyed by LAESTAB, loaded through the inbox as
downloaded and built by dbt: the academy conversion joins up (the closed school keeps its community and
is the academy's predecessor), and establishments in no community are not the authority's schools."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from expectations.context import intake_checks
from ingest.inbox import process_inbox
from orchestration.dbt_args import DBT_PROJECT_DIR, dbt_args

GIAS = Path(__file__).resolve().parents[1] / "fixtures" / "gias"


def test_gias_reference_loads_and_joins_academy_conversions(settings, tmp_path):
    for f in GIAS.glob("*.csv"):
        shutil.copy(f, settings.inbox_dir / f.name)
    result = process_inbox(settings, intake_checks(), None)
    assert not result.quarantined and len(result.loaded) == 4
    warned = {f.rule for _, findings in result.warned for f in findings}
    assert warned == {"other_authority_establishments", "no_establishment_number"}
    dbt = Path(sys.executable).parent / "dbt"
    run = subprocess.run([str(dbt), *dbt_args("run", settings, "--select", "stg_reference__schools", "int_establishments",
                                              "stg_reference__learning_communities",
                                              "--target-path", str(tmp_path / "target")), "--profiles-dir", "."],
                         cwd=DBT_PROJECT_DIR, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:]
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        schools = {r[0]: r[1:] for r in con.execute(
            "SELECT urn, laestab, learning_community_code, predecessor_urn, establishment_type, phase "
            "FROM staging.stg_reference__schools").fetchall()}
        establishments = dict(con.execute(
            "SELECT laestab, learning_community_code FROM intermediate.int_establishments").fetchall())
    # the independent school (no community) and other authorities' establishments are not the authority's schools
    assert set(schools) == {106900, 146900, 106901, 106902, 106903}
    assert schools[146900] == (3723301, "LC01", 106900, "Academy converter", "Primary")
    assert schools[106900][:2] == (3722001, "LC01")  # closed on conversion: its community comes through the link
    assert schools[106902][2] is None  # a sixth-form centre link is not succession
    # pupils filed under the old LAESTAB count in the same community as the academy's
    assert establishments[3722001] == establishments[3723301] == "LC01"



def test_a_warehouse_from_before_the_links_and_membership_tables_still_builds(settings, tmp_path, small_borough_dir):
    """Upgrading: a warehouse with no raw.school_links or raw.community_membership (and no such file since)
    builds its schools reference from the schools file alone."""
    for name in ("schools.csv", "learning_communities.csv"):
        shutil.copy(small_borough_dir / name, settings.inbox_dir / name)
    assert len(process_inbox(settings, intake_checks(), None).loaded) == 2
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("DROP TABLE raw.school_links")
        con.execute("DROP TABLE raw.community_membership")
        n = con.execute("SELECT count(*) FROM raw.schools").fetchone()[0]
    dbt = Path(sys.executable).parent / "dbt"
    run = subprocess.run([str(dbt), *dbt_args("run", settings, "--select", "stg_reference__schools",
                                              "--target-path", str(tmp_path / "target")), "--profiles-dir", "."],
                         cwd=DBT_PROJECT_DIR, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:]
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM staging.stg_reference__schools").fetchone()[0] == n > 0
