"""dbt models as Dagster assets; dbt tests become asset checks."""


from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from ingest.settings import get_settings
from orchestration.environment import export_settings
from orchestration.project import dbt_project


class PathwaysTranslator(DagsterDbtTranslator):
    """The one translator: models keyed by layer (staging/…, marts/…), sources by raw/<table>."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        layer = dbt_resource_props.get("fqn", ["", "models"])[1] if dbt_resource_props["resource_type"] == "model" else "reference"
        return dg.AssetKey([layer, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        return dbt_resource_props.get("fqn", ["", "models"])[1]


translator = PathwaysTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=translator, project=dbt_project)
def pathways_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    export_settings(get_settings())  # the profile reads the warehouse path the ingest assets wrote
    yield from dbt.cli(["build"], context=context).stream()
