"""Renaming a published mart's column in SQL without describing it stops publication, naming
the column: dbt's enforced contract refuses the build, and should a relation ever reach the
publish step with an undescribed column, publishing refuses it too."""

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_args import DBT_PROJECT_DIR, dbt_args
from orchestration.project import dbt_project
from publish.publication import PublicationBlocked, publish
from tests.conftest import make_settings


def test_dbt_refuses_a_renamed_published_column(refreshed, tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    model = project / "models" / "marts" / "learning_community_gap_index.sql"
    sql = model.read_text()
    column = '{{ round_half_up("combined.gap_index", 2) }} as gap_index,'
    assert column in sql
    model.write_text(sql.replace(column, column.replace("as gap_index,", "as gap_index_renamed,")))
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(refreshed.warehouse, warehouse)
    settings = make_settings(tmp_path, warehouse_path=warehouse)
    run = subprocess.run([str(Path(sys.executable).parent / "dbt"),
                          *dbt_args("run", settings, "--select", "learning_community_gap_index"), "--profiles-dir", "."],
                         cwd=project, capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert "enforced contract that failed" in run.stdout and "gap_index_renamed" in run.stdout, run.stdout[-3000:]


def test_publishing_refuses_a_relation_with_an_undescribed_column(refreshed, tmp_path):
    settings = make_settings(tmp_path)
    settings.data_dir.mkdir(parents=True)
    shutil.copy(refreshed.warehouse, settings.warehouse)
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("ALTER TABLE marts.learning_community_gap_index RENAME COLUMN gap_index TO gap_index_renamed")
    with pytest.raises(PublicationBlocked, match="gap_index_renamed"):
        publish(settings, dbt_project.manifest_path)
    assert not (settings.published_dir / "current").exists()
