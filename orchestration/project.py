"""The dbt project, in its own module so setup can prepare its manifest before anything
imports the dbt assets (dagster-dbt reads target/manifest.json at import)."""

from pathlib import Path

from dagster_dbt import DbtProject

from ingest.settings import get_settings

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target=get_settings().dbt_target,
)
