"""The dbt project, in its own module so setup can prepare its manifest before anything imports
the dbt assets (dagster-dbt reads target/manifest.json at import)."""

from dagster_dbt import DbtProject

from orchestration.dbt_args import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
