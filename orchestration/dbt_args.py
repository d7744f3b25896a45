"""The arguments every dbt command gets: settings as namespaced ``--vars``, built by pure functions.

dbt never reads Pathways settings from the environment: each invocation gets them here, the
warehouse path included (the profile reads ``pathways:warehouse_path``). The measure list is
read from the ``measures`` seed, its one definition, and handed to dbt the same way, so the
SQL that computes each measure and the published list of measures cannot drift apart.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from config.labels import LABELS
from config.settings import Settings

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
MEASURES_SEED = DBT_PROJECT_DIR / "seeds" / "measures.csv"
SPARK_LOG_CONFIG = DBT_PROJECT_DIR.parent / "engine" / "spark-log4j2.properties"


def measure_definitions(seed: Path = MEASURES_SEED) -> list[dict]:
    """Each measure's computation as the seed states it: the pupil-level model it counts, its
    numerator and denominator expressions and the population condition."""
    with open(seed, newline="") as f:
        return [{k: row[k] for k in ("measure", "stage", "measure_type", "pupil_model", "numerator", "denominator",
                                     "population")} for row in csv.DictReader(f)]


def dbt_vars(settings: Settings) -> dict:
    """Every value dbt takes from Pathways, namespaced ``pathways:`` (one setting, one var)."""
    return {
        "pathways:warehouse_path": str(settings.warehouse),
        "pathways:duckdb_memory_limit": settings.duckdb_memory_limit,
        "pathways:spark_dir": str(settings.spark_home),
        "pathways:spark_driver_memory": settings.spark_driver_memory,
        "pathways:spark_log_config": str(SPARK_LOG_CONFIG),
        "pathways:lake_dir": str(settings.lake),
        "pathways:old_la_code": str(settings.la_code),
        "pathways:new_la_code": settings.new_la_code,
        "pathways:la_name": settings.la_name,
        "pathways:phonics_threshold": settings.phonics_threshold,
        "pathways:persistent_absence_threshold": settings.persistent_absence_threshold,
        "pathways:severe_absence_threshold": settings.severe_absence_threshold,
        "pathways:gap_index_ks2_method": settings.gap_index_ks2_method,
        "pathways:gap_trend_years": settings.gap_trend_years,
        "pathways:rolling_window_years": settings.rolling_window_years,
        "pathways:categorisation_rules": settings.categorisation_rules,
        "pathways:labels": LABELS,
        "pathways:community_breakdowns": list(settings.community_breakdowns),
        "pathways:community_totals_only": list(settings.community_totals_only),
        "pathways:measures": measure_definitions(),
    }


def dbt_target(settings: Settings) -> str:
    """The profile target of the engine the settings choose (PATHWAYS_ENGINE)."""
    return settings.spark_target if settings.engine == "spark" else settings.dbt_target


def dbt_args(command: str, settings: Settings, *extra: str) -> list[str]:
    """``dbt <command> --target <target> --vars <json> [extra]`` for any dbt command
    (``command`` may be two words: "docs generate", "source freshness")."""
    return [*command.split(), "--target", dbt_target(settings), "--vars", json.dumps(dbt_vars(settings), sort_keys=True),
            *extra]
