"""Are two builds of the marts the same figures? Counts and text exactly, rates and averages within
rounding (half a unit of the last decimal a mart shows). Used by the parity test and the benchmark."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

# floats agreeing to this share of their size (or this much, near zero) are the same figure: a rounded
# figure differs by at least 0.01 of its unit when it differs at all, while unrounded sums (numerators)
# added up in another order differ in their last bits only
FLOAT_TOLERANCE = 1e-9


@dataclass
class MartDifference:
    table: str
    problem: str

    def __str__(self) -> str:
        return f"{self.table}: {self.problem}"


def read_marts(con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, pl.DataFrame]:
    return {t: con.sql(f"SELECT * FROM marts.{t}").pl() for t in tables}


def compare(left: dict[str, pl.DataFrame], right: dict[str, pl.DataFrame], tolerance: float = FLOAT_TOLERANCE
            ) -> list[MartDifference]:
    """Differences between two sets of marts (empty: the same figures). Rows are matched whatever
    their order: both sides are sorted by every non-float column, then floats."""
    out = []
    for table in sorted(set(left) | set(right)):
        if table not in left or table not in right:
            out.append(MartDifference(table, "built on one engine only"))
            continue
        a, b = left[table], right[table]
        if a.columns != b.columns:
            out.append(MartDifference(table, f"columns differ: {a.columns} vs {b.columns}"))
            continue
        if a.height != b.height:
            out.append(MartDifference(table, f"{a.height} rows vs {b.height}"))
            continue
        floats = [c for c in a.columns if a[c].dtype.is_float() or b[c].dtype.is_float()]
        exact = [c for c in a.columns if c not in floats]
        mismatched_types = [c for c in exact if a[c].dtype != b[c].dtype]
        if mismatched_types:
            out.append(MartDifference(table, "types differ: " + ", ".join(
                f"{c} {a[c].dtype} vs {b[c].dtype}" for c in mismatched_types)))
            continue
        order = exact + floats
        a, b = a.sort(order, nulls_last=True), b.sort(order, nulls_last=True)
        for c in exact:
            diff = ~a[c].eq_missing(b[c])
            if diff.any():
                i = diff.arg_max()
                out.append(MartDifference(table, f"{int(diff.sum())} row(s) differ in {c} (e.g. {a[c][i]!r} vs {b[c][i]!r})"))
        for c in floats:
            x, y = a[c].cast(pl.Float64), b[c].cast(pl.Float64)
            scale = pl.max_horizontal(x.abs(), y.abs(), pl.lit(1.0, pl.Float64))
            diff = (x.is_null() != y.is_null()) | ((x - y).abs() > tolerance * pl.select(scale).to_series()).fill_null(False)
            if diff.any():
                i = diff.arg_max()
                out.append(MartDifference(table, f"{int(diff.sum())} row(s) differ in {c} (e.g. {x[i]} vs {y[i]})"))
    return out
