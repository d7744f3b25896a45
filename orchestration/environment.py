"""Hand the Pathways settings to the processes Dagster starts (dbt reads them as env vars).

One path setting: the DuckDB file the ingest assets write is the file the dbt profile opens.
"""

from __future__ import annotations

import os

from ingest.settings import Settings


def export_settings(settings: Settings) -> None:
    os.environ["PATHWAYS_WAREHOUSE_PATH"] = str(settings.warehouse)
    os.environ["PATHWAYS_DBT_TARGET"] = settings.dbt_target
    os.environ["PATHWAYS_LA_CODE"] = str(settings.la_code)
    os.environ["PATHWAYS_NEW_LA_CODE"] = settings.new_la_code
    os.environ["PATHWAYS_LA_NAME"] = settings.la_name
