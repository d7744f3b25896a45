"""The publication contract fails closed: a column it does not describe, or a figure with no
suppression flag, stops publication with the table and column named."""

import json

import polars as pl
import pytest

from orchestration.project import dbt_project
from publish.contract import ContractError, check_columns, load_contract
from publish.masking import NOT_APPLICABLE, SUPPRESSED, as_symbols, mask


@pytest.fixture(scope="module")
def contract():
    return load_contract(dbt_project.manifest_path)


def test_the_contract_lists_the_published_marts_and_no_pupil_level_model(contract):
    assert {"learning_community_outcomes", "learning_community_disadvantage_gaps", "school_categories",
            "measures", "national_benchmarks"} <= set(contract)
    assert "dim_pupils" not in contract and not any(t.startswith(("int_", "stg_")) for t in contract)
    assert not any("pupil_key" in t.columns for t in contract.values())


def test_every_published_model_has_an_enforced_contract_and_described_columns():
    nodes = json.loads(dbt_project.manifest_path.read_text())["nodes"]
    for node in nodes.values():
        if node["resource_type"] == "model" and node["config"].get("group") == "publication":
            assert node["config"]["contract"]["enforced"], node["name"]
            assert all(c.get("description") and c.get("data_type") for c in node["columns"].values()), node["name"]


def test_pupil_level_models_are_private_or_outside_the_publication():
    nodes = json.loads(dbt_project.manifest_path.read_text())["nodes"]
    assert nodes["model.pathways.dim_pupils"]["access"] == "private"
    assert nodes["model.pathways.dim_pupils"]["config"]["group"] == "pupil_level"


def test_an_undescribed_column_is_refused_by_name(contract):
    outcomes = contract["learning_community_outcomes"]
    with pytest.raises(ContractError, match="value_renamed"):
        check_columns(outcomes, [*outcomes.columns, "value_renamed"])
    with pytest.raises(ContractError, match="does not have"):
        check_columns(outcomes, [c for c in outcomes.columns if c != "value"])


def test_a_column_without_a_disclosure_role_is_refused(tmp_path):
    manifest = {"nodes": {"model.pathways.m": {
        "resource_type": "model", "name": "m", "alias": "m", "schema": "marts", "config": {"group": "publication"},
        "columns": {"time_period": {"meta": {"disclosure": "classifier"}}, "pupils": {"meta": {}}}}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ContractError, match=r"m\.pupils"):
        load_contract(tmp_path / "manifest.json")


def test_figures_are_withheld_by_their_flag_and_classifiers_are_not(contract):
    outcomes = contract["learning_community_outcomes"]
    row = {c: None for c in outcomes.columns}
    frame = pl.DataFrame([{**row, "time_period": 202324, "measure": "m", "numerator": 1.0, "denominator": 10.0,
                           "pupils": 10, "value": 10.0},
                          {**row, "time_period": 202324, "measure": "m", "numerator": 50.0, "denominator": 100.0,
                           "pupils": 100, "value": 50.0}])
    flag = pl.Series([True, False])  # each figure withheld by its own flag (docs/methodology.md)
    out = mask(outcomes, frame, {"cell": flag, "numerator": flag, "denominator": flag, "pupils": flag}, {"m": 1})
    withheld, shown = out.row(0, named=True), out.row(1, named=True)
    # a withheld figure is NULL with its reason (the EES symbol) beside it; a shown one is a number
    assert withheld["numerator"] is None and withheld["value"] is None
    assert withheld["numerator_status"] == SUPPRESSED and withheld["value_status"] == SUPPRESSED
    assert withheld["time_period"] == 202324
    assert shown["value"] == 50.0 and shown["numerator"] == 50.0 and shown["pupils"] == 100
    assert shown["value_status"] is None and out.schema["pupils"].is_integer() and out.schema["value"] == pl.Float64
    # and back to the EES text form for the open-data files
    symbols = as_symbols(out)
    assert symbols.row(0, named=True)["value"] == SUPPRESSED and symbols.row(1, named=True)["numerator"] == "50"
    assert "value_status" not in symbols.columns


def test_a_figure_with_no_result_is_null_and_marked_not_applicable(contract):
    outcomes = contract["learning_community_outcomes"]
    row = {c: None for c in outcomes.columns}
    frame = pl.DataFrame([{**row, "time_period": 202324, "measure": "m", "numerator": 50.0, "denominator": 100.0,
                           "pupils": 100, "value": None}], schema_overrides={"value": pl.Float64})
    flag = pl.Series([False])
    out = mask(outcomes, frame, {"cell": flag, "numerator": flag, "denominator": flag, "pupils": flag},
               {"m": 1}).row(0, named=True)
    assert out["value"] is None and out["value_status"] == NOT_APPLICABLE and out["numerator_status"] is None


def test_a_figure_whose_flag_is_not_computed_is_refused(contract):
    outcomes = contract["learning_community_outcomes"]
    frame = pl.DataFrame({c: [None] for c in outcomes.columns})
    with pytest.raises(ContractError, match="withheld with '(cell|numerator)'"):
        mask(outcomes, frame, {})


def test_a_value_is_published_to_its_own_measures_decimal_places(contract):
    # an exclusion rate per 100 pupils to 2 dp (DfE's 0.13), an attainment percentage to 1 dp: the
    # places come from the measures seed, never a fixed number in the contract
    assert contract["learning_community_outcomes"].columns["value"].decimals == "measure"
    assert contract["learning_community_disadvantage_gaps"].columns["gap"].decimals == "measure"
    assert contract["learning_community_gap_trends"].columns["last_value"].decimals == "measure"
    # England's figures beside them too (published as DfE gives them, shown to the same places)
    assert contract["learning_community_disadvantage_gaps"].columns["national_gap"].decimals == "measure"
    assert contract["national_benchmarks"].columns["value"].decimals == "measure"
    outcomes = contract["learning_community_outcomes"]
    row = {c: None for c in outcomes.columns}
    frame = pl.DataFrame([{**row, "measure": "permanent_exclusion_rate", "numerator": 13.0, "denominator": 9876.0,
                           "pupils": 9876, "value": 100 * 13 / 9876},
                          {**row, "measure": "ks2_rwm_expected", "numerator": 613.0, "denominator": 1000.0,
                           "pupils": 1000, "value": 61.3}])
    shown = pl.Series([False, False])
    flags = {"cell": shown, "numerator": shown, "denominator": shown, "pupils": shown}
    out = mask(outcomes, frame, flags, {"permanent_exclusion_rate": 2, "ks2_rwm_expected": 1})
    assert out["value"].to_list() == [0.13, 61.3]
    # a measure the seed does not define cannot be rounded: publication stops, naming it
    with pytest.raises(ContractError, match="permanent_exclusion_rate"):
        mask(outcomes, frame, flags, {"ks2_rwm_expected": 1})


def test_decimals_other_than_places_or_measure_are_refused(tmp_path):
    manifest = {"nodes": {"model.pathways.m": {
        "resource_type": "model", "name": "m", "alias": "m", "schema": "marts", "config": {"group": "publication"},
        "columns": {"measure": {"meta": {"disclosure": "classifier"}},
                    "value": {"meta": {"disclosure": "figure", "decimals": "one"}}}}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ContractError, match=r"m\.value"):
        load_contract(tmp_path / "manifest.json")
