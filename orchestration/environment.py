"""Hand the Pathways settings to the processes Dagster starts (dbt reads them as env vars).

One path setting: the DuckDB file the ingest assets write is the file the dbt profile opens.
"""

from __future__ import annotations

import json
import os

from ingest.settings import Settings


def export_settings(settings: Settings) -> None:
    os.environ["PATHWAYS_WAREHOUSE_PATH"] = str(settings.warehouse)
    os.environ["PATHWAYS_DBT_TARGET"] = settings.dbt_target
    os.environ["PATHWAYS_DUCKDB_MEMORY_LIMIT"] = settings.duckdb_memory_limit
    os.environ["PATHWAYS_LA_CODE"] = str(settings.la_code)
    os.environ["PATHWAYS_NEW_LA_CODE"] = settings.new_la_code
    os.environ["PATHWAYS_LA_NAME"] = settings.la_name
    os.environ["PATHWAYS_PHONICS_THRESHOLD"] = str(settings.phonics_threshold)
    os.environ["PATHWAYS_PERSISTENT_ABSENCE_THRESHOLD"] = str(settings.persistent_absence_threshold)
    os.environ["PATHWAYS_SEVERE_ABSENCE_THRESHOLD"] = str(settings.severe_absence_threshold)
    os.environ["PATHWAYS_GAP_INDEX_KS2_METHOD"] = settings.gap_index_ks2_method
    os.environ["PATHWAYS_GAP_TREND_YEARS"] = str(settings.gap_trend_years)
    os.environ["PATHWAYS_CATEGORISATION_RULES"] = json.dumps(settings.categorisation_rules)
