"""Who to ask about an asset, shown as its owner in the Dagster UI: the folder whose code makes it
(ingest/, dbt_project/, publish/). Asset groups name the layer instead (ingest, staging,
intermediate, marts, reference, publish), matching dbt_project/models/<layer>/."""

OWNERS = {folder: f"team:{folder}" for folder in ("ingest", "dbt_project", "publish")}
