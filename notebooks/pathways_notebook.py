"""Shared helpers for the notebooks: open the publication read-only, read parameters, save charts.

Notebooks read the published database only (never the warehouse or pupil data).
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parent.parent


def parameters(argv: dict | None = None) -> argparse.Namespace:
    """--publication (a folder or pathways.duckdb; default: data/published/current) and
    --learning-community (default: the first); marimo passes them after `--`."""
    args = dict(argv or {})
    pub = args.get("publication") or os.environ.get("PATHWAYS_PUBLICATION") or ROOT / "data" / "published" / "current"
    pub = Path(pub)
    if pub.is_dir():
        pub = pub / "pathways.duckdb"
    return argparse.Namespace(publication=pub, learning_community=args.get("learning-community"),
                              cohort=args.get("cohort"))


def open_publication(cli_args: dict) -> tuple[argparse.Namespace, duckdb.DuckDBPyConnection, str]:
    """Parameters, a read-only connection and the learning community (default: the first)."""
    params = parameters(cli_args)
    con = connect(params.publication)
    lc = params.learning_community or con.sql(
        "SELECT min(learning_community_code) FROM dim_learning_communities").fetchall()[0][0]
    return params, con, lc


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.exists():
        raise SystemExit(f"No publication at {path}: run `make demo` first, or pass --publication.")
    return duckdb.connect(str(path), read_only=True)


def numeric(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """Published figures are text ('c' withheld, 'z' not applicable): turn them into numbers or nulls."""
    return frame.with_columns([pl.col(c).cast(pl.Float64, strict=False) for c in columns])


def wilson(x: float, n: float, z: float = 1.959964) -> tuple[float, float]:
    if not n:
        return (math.nan, math.nan)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def newcombe_gap(x_other: float, n_other: float, x_dis: float, n_dis: float) -> tuple[float, float]:
    """95% interval (percentage points) for other% - disadvantaged% by Newcombe's hybrid score method."""
    if not (n_other and n_dis) or any(math.isnan(v) for v in (x_other, n_other, x_dis, n_dis)):
        return (math.nan, math.nan)
    p1, p2 = x_other / n_other, x_dis / n_dis
    l1, u1 = wilson(x_other, n_other)
    l2, u2 = wilson(x_dis, n_dis)
    d = p1 - p2
    return (100 * (d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)), 100 * (d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)))


def save_chart(chart, name: str) -> None:
    """Write a PNG when PATHWAYS_CHART_DIR is set (the docs images and the tests use this)."""
    out = os.environ.get("PATHWAYS_CHART_DIR")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        chart.save(str(Path(out) / f"{name}.png"), scale_factor=1.5)
