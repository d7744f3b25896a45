"""All Pathways definitions, assembled from the ``defs`` modules."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.automation import inbox_sensor, nightly_refresh, refresh_job, termly_full_refresh
from orchestration.defs.checks import outcome_checks
from orchestration.defs.dbt import pathways_dbt_models
from orchestration.defs.ingest import raw_assets, unrecognised_uploads
from orchestration.defs.publish import publication
from orchestration.project import dbt_project


def _dbt_executable() -> str:
    # beside this interpreter (works without activating the venv), else whatever is on PATH
    local = Path(sys.executable).parent / "dbt"
    return str(local) if local.exists() else (shutil.which("dbt") or "dbt")


defs = dg.Definitions(
    assets=[*raw_assets, unrecognised_uploads, pathways_dbt_models, publication],
    asset_checks=[outcome_checks],
    jobs=[refresh_job],
    schedules=[nightly_refresh, termly_full_refresh],
    sensors=[inbox_sensor],
    resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=_dbt_executable())},
    executor=dg.in_process_executor,  # one process per run: DuckDB allows one writer
)
