"""One way to read the warehouse, whichever engine built it: a DuckDB connection, read-only.

Ingest, holds, erasure and the raw layer live in the DuckDB warehouse file on every engine
(engine/lake.py says why). What dbt builds lives where the engine puts it: in that same file on
DuckDB; on Spark, as Parquet under the session's warehouse folder (``<spark_dir>/warehouse/<schema>.db/<table>/``).
``open_reader`` gives publish, the checks and the command line one connection in which ``raw.*`` is
what ingest loaded and ``marts.*``, ``intermediate.*`` and ``reference.*`` are what the chosen engine
built (nothing else), so none of them needs to know which engine that was.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import duckdb
import yaml

from config.settings import PROJECT_ROOT, Settings

DBT_PROJECT_FILE = PROJECT_ROOT / "dbt_project" / "dbt_project.yml"


@cache
def dbt_schemas() -> frozenset[str]:
    """The schemas dbt builds (``+schema`` in dbt_project.yml). On Spark they come from the engine
    only: a DuckDB build left in the file is never read in place of a table Spark failed to build."""
    found: set[str] = set()

    def walk(node) -> None:
        for key, value in node.items():
            if key == "+schema":
                found.add(value)
            elif isinstance(value, dict):
                walk(value)

    project = yaml.safe_load(DBT_PROJECT_FILE.read_text())
    walk(project.get("models", {}))
    walk(project.get("seeds", {}))
    return frozenset(found)


def spark_tables_dir(settings: Settings) -> Path:
    """Where the Spark engine's tables are (spark.sql.warehouse.dir in the spark profile)."""
    return settings.spark_home / "warehouse"


def spark_tables(settings: Settings) -> dict[tuple[str, str], Path]:
    """(schema, table) -> folder of each table the Spark engine built, by its folder name."""
    root = spark_tables_dir(settings)
    return {(d.parent.name.removesuffix(".db"), d.name): d
            for d in sorted(root.glob("*.db/*")) if d.is_dir() and any(d.glob("*.parquet"))}


def open_reader(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse as the chosen engine built it (close it after use)."""
    if settings.engine == "duckdb":
        return duckdb.connect(str(settings.warehouse), read_only=True)
    con = duckdb.connect(config={"threads": 2})
    try:
        if settings.warehouse.exists():
            # attached under its own name: views dbt-duckdb left in the file name their catalog so
            wh = settings.warehouse.stem.replace('"', '')
            con.execute(f"""ATTACH '{_quoted(settings.warehouse)}' AS "{wh}" (READ_ONLY)""")
            for schema, table in con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                                             "WHERE table_catalog = ? AND table_type = 'BASE TABLE'", [wh]).fetchall():
                if schema in dbt_schemas():
                    continue
                con.execute(f'CREATE SCHEMA IF NOT EXISTS memory."{schema}"')
                con.execute(f'CREATE VIEW memory."{schema}"."{table}" AS SELECT * FROM "{wh}"."{schema}"."{table}"')
        for (schema, table), folder in spark_tables(settings).items():
            con.execute(f'CREATE SCHEMA IF NOT EXISTS memory."{schema}"')
            con.execute(f'CREATE OR REPLACE VIEW memory."{schema}"."{table}" AS '
                        f"SELECT * FROM read_parquet('{_quoted(folder)}/*.parquet')")
        con.execute("USE memory")
    except BaseException:
        con.close()
        raise
    return con


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
