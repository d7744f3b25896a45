"""The publication contract: which tables are published and how each column is treated, read
from the dbt manifest (the `publication` group), never from a list kept in Python.

Every column of a published model or seed carries ``meta.disclosure``:

  classifier     says which row this is (year, geography, measure, subgroup, names): published as is;
  benchmark      a figure already public (national statistics): published as is;
  figure         computed from pupil data: withheld when its row's suppression flag named by
                 ``meta.withheld_with`` is set (``cell`` unless said otherwise); ``figure_type``
                 says what it is (numerator, denominator, count, value, percentage, gap, index,
                 interval, verdict) and ``decimals`` how it is rounded where it is shown: a
                 number of places, or ``measure`` for the places of the row's measure (the
                 ``decimals`` of the measures seed, the one definition: an exclusion rate to 2);
  not_published  kept in the warehouse, left out of the publication.

Publishing fails closed: a column in a published relation that the contract does not describe,
or describes without a known treatment, or a figure whose flag the suppression step did not
compute, stops the publication with a message naming the table and column.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

PUBLICATION_GROUP = "publication"
TREATMENTS = ("classifier", "benchmark", "figure", "not_published")
MEASURE_DECIMALS = "measure"  # meta.decimals: the row's measure's decimal places (measures.decimals)


class ContractError(Exception):
    """The publication and its contract disagree; nothing is published."""


@dataclass(frozen=True)
class Column:
    name: str
    disclosure: str
    figure_type: str | None = None
    withheld_with: str | None = None
    decimals: int | str | None = None  # places, or MEASURE_DECIMALS


@dataclass(frozen=True)
class PublishedTable:
    name: str                    # the table's name in the publication (the dbt alias)
    relation: str                # schema.table in the warehouse
    node: str                    # dbt unique id (model.pathways.x / seed.pathways.x)
    columns: dict[str, Column] = field(default_factory=dict)

    @property
    def published_columns(self) -> list[str]:
        return [c for c, spec in self.columns.items() if spec.disclosure != "not_published"]


def load_contract(manifest_path: Path) -> dict[str, PublishedTable]:
    """The published tables, by published name, from dbt's manifest."""
    manifest = json.loads(Path(manifest_path).read_text())
    tables: dict[str, PublishedTable] = {}
    for uid, node in sorted(manifest["nodes"].items()):
        if node["resource_type"] not in ("model", "seed") or node["config"].get("group") != PUBLICATION_GROUP:
            continue
        name = node.get("alias") or node["name"]
        columns = {}
        for cname, col in node.get("columns", {}).items():
            meta = col.get("meta") or {}
            disclosure = meta.get("disclosure")
            if disclosure not in TREATMENTS:
                raise ContractError(f"{name}.{cname}: meta.disclosure is {disclosure!r}; it must be one of "
                                    f"{', '.join(TREATMENTS)} (dbt_project/models or seeds YAML)")
            withheld_with = meta.get("withheld_with", "cell") if disclosure == "figure" else None
            decimals = meta.get("decimals")
            if not (decimals is None or decimals == MEASURE_DECIMALS
                    or (isinstance(decimals, int) and not isinstance(decimals, bool) and 0 <= decimals <= 4)):
                raise ContractError(f"{name}.{cname}: meta.decimals is {decimals!r}; it must be 0 to 4 or "
                                    f"'{MEASURE_DECIMALS}' (the row's measure's decimals, measures seed)")
            if decimals == MEASURE_DECIMALS and "measure" not in node.get("columns", {}):
                raise ContractError(f"{name}.{cname}: meta.decimals is '{MEASURE_DECIMALS}' but {name} has no "
                                    f"measure column to take the decimal places from")
            columns[cname] = Column(cname, disclosure, meta.get("figure_type"), withheld_with, decimals)
        tables[name] = PublishedTable(name, f"{node['schema']}.{node.get('alias') or node['name']}", uid, columns)
    if not tables:
        raise ContractError(f"no published models in {manifest_path} (group '{PUBLICATION_GROUP}')")
    return tables


def check_columns(table: PublishedTable, columns: list[str]) -> None:
    """The relation's columns must be exactly the contract's: an undescribed column is refused."""
    unknown = [c for c in columns if c not in table.columns]
    if unknown:
        raise ContractError(
            f"{table.name}: column(s) {', '.join(unknown)} are not in the publication contract, so Pathways "
            f"does not know how to treat them; describe each in the model's YAML with meta.disclosure "
            f"({', '.join(TREATMENTS)})")
    missing = [c for c in table.columns if c not in columns]
    if missing:
        raise ContractError(f"{table.name}: the contract describes column(s) {', '.join(missing)} "
                            f"that the warehouse relation {table.relation} does not have (rebuild with dbt)")


def check_flags(table: PublishedTable, flags: set[str]) -> None:
    """Every figure column names a suppression flag this table has ('never' for none)."""
    for c in table.columns.values():
        if c.disclosure == "figure" and c.withheld_with != "never" and c.withheld_with not in flags:
            raise ContractError(
                f"{table.name}.{c.name}: a figure withheld with '{c.withheld_with}', but suppression computes "
                f"{sorted(flags) or 'no flags'} for {table.name}; say how it is protected in publish/suppression.py")
