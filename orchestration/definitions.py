"""All Pathways definitions, assembled from the ``defs`` modules for one settings object.

``defs`` (what ``dagster dev -m orchestration.definitions`` loads) uses the settings of the
environment; the command line builds its own with ``build_definitions(settings)``, so the
settings reach every asset as the ``settings`` resource and nothing reads a global.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from config.settings import Settings
from orchestration.defs.automation import inbox_sensor, refresh_job, schedules
from orchestration.defs.checks import outcome_checks
from orchestration.defs.dbt import pathways_dbt_models
from orchestration.defs.ingest import raw_assets, refresh_lock_resource, unrecognised_uploads
from orchestration.defs.publish import publication
from orchestration.project import dbt_project


def _dbt_executable() -> str:
    # beside this interpreter (works without activating the venv), else whatever is on PATH
    local = Path(sys.executable).parent / "dbt"
    return str(local) if local.exists() else (shutil.which("dbt") or "dbt")


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=[*raw_assets, unrecognised_uploads, pathways_dbt_models, publication],
        asset_checks=[outcome_checks],
        jobs=[refresh_job],
        schedules=schedules(settings),
        sensors=[inbox_sensor],
        resources={
            "settings": settings,
            "refresh_lock": refresh_lock_resource(settings),
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=_dbt_executable()),
        },
        executor=dg.in_process_executor,  # one process per run: DuckDB allows one writer
    )


defs = build_definitions(Settings())
