"""dbt gets its settings as namespaced vars from one pure function, never from the environment."""

import json
import os
import re

from config.labels import LABELS
from config.settings import Settings
from orchestration.dbt_args import DBT_PROJECT_DIR, MEASURES_SEED, dbt_args, dbt_vars, measure_definitions


def _vars_the_project_reads() -> set[str]:
    found = set()
    for path in [*DBT_PROJECT_DIR.glob("models/**/*.sql"), *DBT_PROJECT_DIR.glob("macros/*.sql"),
                 DBT_PROJECT_DIR / "profiles.yml"]:
        found |= set(re.findall(r"""var\(\s*["'](pathways:[a-z0-9_]+)["']""", path.read_text()))
    return found


def test_every_var_the_project_reads_is_passed_and_none_is_passed_unread():
    assert _vars_the_project_reads() == set(dbt_vars(Settings(pseudonymisation_key="k")))


def test_the_vars_carry_the_settings_values(tmp_path):
    s = Settings(data_dir=tmp_path, phonics_threshold=30, gap_trend_years=4, categorisation_rules={"min_pupils": 15},
                 pseudonymisation_key="k")
    v = dbt_vars(s)
    assert v["pathways:warehouse_path"] == str(tmp_path / "warehouse.duckdb")
    assert v["pathways:phonics_threshold"] == 30 and v["pathways:gap_trend_years"] == 4
    assert v["pathways:categorisation_rules"] == {"min_pupils": 15}
    assert v["pathways:labels"] == LABELS


def test_args_are_pure_and_write_nothing_to_the_environment(tmp_path):
    before = dict(os.environ)
    s = Settings(data_dir=tmp_path, dbt_target="ci", pseudonymisation_key="k")
    args = dbt_args("docs generate", s, "--target-path", "x")
    assert args == dbt_args("docs generate", s, "--target-path", "x")
    assert args[:4] == ["docs", "generate", "--target", "ci"]
    assert args[4] == "--vars" and json.loads(args[5])["pathways:warehouse_path"] == str(tmp_path / "warehouse.duckdb")
    assert args[-2:] == ["--target-path", "x"]
    assert dict(os.environ) == before


def test_the_measure_list_is_the_seed():
    seed = MEASURES_SEED.read_text().splitlines()
    measures = measure_definitions()
    assert [m["measure"] for m in measures] == [line.split(",")[0] for line in seed[1:]]
    assert all(m["pupil_model"].startswith(("int_", "dim_")) and m["population"] for m in measures)


def test_the_engine_setting_chooses_the_dbt_target(tmp_path):
    duck = Settings(data_dir=tmp_path, pseudonymisation_key="k")
    spark = Settings(data_dir=tmp_path, engine="spark", pseudonymisation_key="k")
    cluster = Settings(data_dir=tmp_path, engine="spark", spark_target="databricks", pseudonymisation_key="k")
    assert dbt_args("build", duck)[1:3] == ["--target", "local"]
    assert dbt_args("build", spark)[1:3] == ["--target", "spark"]
    assert dbt_args("build", cluster)[1:3] == ["--target", "databricks"]
    v = dbt_vars(spark)  # the local session's metastore and tables, and the raw lake, under the data folder
    assert v["pathways:spark_dir"] == str(tmp_path / "spark") and v["pathways:lake_dir"] == str(tmp_path / "lake")
