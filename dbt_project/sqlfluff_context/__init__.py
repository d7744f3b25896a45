"""What sqlfluff needs to render the models as dbt would, without a database: the Pathways vars
(built by the same function a refresh uses) and stand-ins for the dbt objects the SQL calls.
Loaded by sqlfluff through `library_path` in .sqlfluff; dbt itself never reads this."""

from config.settings import Settings
from orchestration.dbt_args import dbt_vars

_VARS = dbt_vars(Settings(pseudonymisation_key="lint"))


def var(name, default=None):
    return _VARS.get(name, default)


class _Dbt:
    """dbt's cross-database macros, as they render on DuckDB."""

    @staticmethod
    def type_string():
        return "varchar"

    @staticmethod
    def type_int():
        return "integer"

    @staticmethod
    def type_bigint():
        return "bigint"

    @staticmethod
    def type_float():
        return "double"

    @staticmethod
    def concat(fields):
        return " || ".join(fields)

    @staticmethod
    def safe_cast(field, type_):
        return f"try_cast({field} as {type_})"

    @staticmethod
    def listagg(measure, delimiter_text="','", order_by_clause=None, limit_num=None):
        return f"string_agg({measure}, {delimiter_text}{' ' + order_by_clause if order_by_clause else ''})"


# engine macros (dbt_project/macros/engine.sql) whose DuckDB rendering is not a function call
_DUCKDB = {
    "type_double": lambda: "double",
    "type_exact_sum": lambda: "decimal(38, 10)",
    "ordered_listagg": lambda measure, delimiter, order_by: f"string_agg({measure}, {delimiter} order by {order_by})",
    "reachable_pairs": lambda name, edges: (
        f"{name} (urn, linked_urn) as (select urn, link_urn from {edges} union "
        f"select {name}.urn, {edges}.link_urn from {name} inner join {edges} on {name}.linked_urn = {edges}.urn)"),
}


class _Adapter:
    @staticmethod
    def dispatch(name, macro_namespace=None):
        return _DUCKDB.get(name) or (lambda *args: f"{name}({', '.join(str(a) for a in args)})")


class _Column:
    @staticmethod
    def translate_type(type_):
        return type_


class _Api:
    Column = _Column


dbt = _Dbt()
adapter = _Adapter()
api = _Api()
