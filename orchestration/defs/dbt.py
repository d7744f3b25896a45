"""dbt models as Dagster assets; dbt tests become asset checks."""

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from config.settings import Settings
from orchestration.dbt_args import dbt_args
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


INVOCATIONS_KEPT = 10  # dbt's folders of artifacts and logs per run, under dbt_project/target


@dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=translator, project=dbt_project)
def pathways_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: dg.ResourceParam[Settings],
                        refresh_lock: dg.ResourceParam[object]):  # one refresh at a time (orchestration/defs/ingest.py)
    invocation = dbt.cli(dbt_args("build", settings), context=context)
    yield from invocation.stream()
    _keep_partial_parse(invocation.target_path)


def _keep_partial_parse(run_target: Path) -> None:
    """Each run has its own target folder, seeded from target/partial_parse.msgpack. That file
    is from `dbt parse` at setup, whose vars (warehouse path) may differ, so dbt would parse the
    whole project again (about 2.5 s); keeping this run's parse state lets the next run skip that.
    Old run folders are pruned so the target folder does not grow with every refresh."""
    target = run_target.parent
    state = run_target / "partial_parse.msgpack"
    if state.exists():
        shutil.copy(state, target / "partial_parse.msgpack.tmp")
        os.replace(target / "partial_parse.msgpack.tmp", target / "partial_parse.msgpack")
    runs = sorted((d for d in target.glob("pathways_dbt_models-*") if d.is_dir()), key=lambda d: d.stat().st_mtime)
    for old in runs[:-INVOCATIONS_KEPT]:
        shutil.rmtree(old, ignore_errors=True)
