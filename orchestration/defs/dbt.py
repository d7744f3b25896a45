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
from orchestration.owners import OWNERS
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

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        """The folder that holds the asset's code: every dbt model and seed lives in dbt_project/ (see OWNERS)."""
        return super().get_owners(dbt_resource_props) or [OWNERS["dbt_project"]]


    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        return spec._replace(description=describe_test(manifest["nodes"][unique_id]))


def describe_test(node: Mapping[str, Any]) -> str:
    """What a dbt test checks, in words, and how to act on a failure (shown on its Dagster check)."""
    meta = {**node.get("meta", {}), **node.get("config", {}).get("meta", {})}
    test = node.get("test_metadata") or {}
    kwargs = test.get("kwargs", {})
    args = kwargs.get("arguments", kwargs)
    column = node.get("column_name") or args.get("column_name")
    model = next((n.split(".")[-1] for n in node.get("depends_on", {}).get("nodes", [])), "the model")
    what = node.get("description") or meta.get("checks") or {
        "not_null": f"`{column}` is never empty in {model}.",
        "unique": f"Each `{column}` appears once in {model}.",
        "accepted_values": f"`{column}` in {model} is one of: {', '.join(map(str, args.get('values', [])))}.",
        "relationships": f"Every `{column}` in {model} exists in {str(args.get('to', '')).replace('ref(', '').rstrip(')')}.",
        "unique_combination": f"{model} has one row per {', '.join(args.get('columns', []))} (its grain).",
        "expression_is_true": f"Every row of {model} satisfies `{args.get('expression')}`.",
        "breakdowns_match_subgroups": f"Every breakdown of int_pupil_subgroups reaches {model}.",
    }.get(test.get("name", ""), f"dbt test {node['name']} on {model}.")
    blocking = (node.get("config", {}).get("severity") or "error").lower() == "error"
    fix = meta.get("how_to_fix") or (
        f"List the failing rows with `.venv/bin/pathways dbt test --select {node['name']} --store-failures`; "
        f"the rule is in {model}'s header comment and docs/methodology.md.")
    return f"{what} {'A failure blocks publication.' if blocking else 'A failure is a warning.'} How to fix: {fix}"


translator = PathwaysTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


INVOCATIONS_KEPT = 10  # dbt's folders of artifacts and logs per run, under dbt_project/target


@dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=translator, project=dbt_project)
def pathways_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: dg.ResourceParam[Settings],
                        refresh_lock: dg.ResourceParam[object]):  # one refresh at a time (orchestration/defs/ingest.py)
    if settings.engine == "spark":  # Spark reads the raw uploads as Parquet: bring the lake up to date first
        from engine.lake import sync

        context.log.info(sync(settings).summary())
    invocation = dbt.cli(dbt_args("build", settings), context=context)
    # dbt holds DuckDB's one write lock until it exits, so the tables' row counts and columns are
    # read afterwards (dagster-dbt's fetch_row_counts would query while dbt still writes)
    events, failure = [], None
    try:
        events.extend(invocation.stream())
    except Exception as e:  # dbt failed: report what it did build, then fail the step
        failure = e
    yield from with_engine(with_table_metadata(events, settings), settings)
    _keep_partial_parse(invocation.target_path)
    if failure is not None:
        raise failure


def with_engine(events: list, settings: Settings) -> list:
    """Each materialisation says which engine built it and with which dbt target (shown on the asset)."""
    from orchestration.dbt_args import dbt_target

    engine = {"pathways/engine": dg.MetadataValue.text(settings.engine),
              "pathways/dbt_target": dg.MetadataValue.text(dbt_target(settings))}
    return [e.with_metadata({**e.metadata, **engine}) if isinstance(e, dg.Output | dg.AssetMaterialization) else e
            for e in events]


def with_table_metadata(events: list, settings: Settings) -> list:
    """Each materialised model's event, with its row count and column schema (the columns as
    built, described from the model's YAML) for the Dagster UI."""
    import duckdb

    from engine.reader import open_reader

    nodes = {n["unique_id"]: n for n in _manifest_nodes(dbt_project.manifest_path)}
    out = []
    try:
        con = open_reader(settings)
    except duckdb.Error:
        return events
    with con:
        for event in events:
            unique_id = event.metadata.get("unique_id") if isinstance(event, dg.Output | dg.AssetMaterialization) else None
            node = nodes.get(getattr(unique_id, "value", unique_id))
            if node is None or node["resource_type"] not in ("model", "seed"):
                out.append(event)
                continue
            relation = f"{node['schema']}.{node.get('alias') or node['name']}"
            try:
                rows = con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]
                columns = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? "
                                      "AND table_name = ? AND table_catalog = current_database() ORDER BY ordinal_position",
                                      [node["schema"], node.get("alias") or node["name"]]).fetchall()
            except duckdb.Error:
                out.append(event)
                continue
            described = node.get("columns", {})
            schema = dg.TableSchema(columns=[
                dg.TableColumn(name, type_.lower(), description=(described.get(name) or {}).get("description") or None)
                for name, type_ in columns])
            out.append(event.with_metadata({**event.metadata, "dagster/row_count": dg.MetadataValue.int(rows),
                                            "dagster/column_schema": dg.MetadataValue.table_schema(schema),
                                            "dagster/relation_identifier": relation}))
    return out


def _manifest_nodes(manifest_path: Path) -> list[dict]:
    import json

    return list(json.loads(manifest_path.read_text())["nodes"].values())


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
