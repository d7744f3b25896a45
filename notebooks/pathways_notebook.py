"""Shared helpers for the notebooks: open the publication read-only, read parameters, pick a
learning community, label periods, save charts.

Notebooks read the published database only (never the warehouse or pupil data).
"""

from __future__ import annotations

import argparse
import json
import math
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from config.labels import LOCAL_AUTHORITY

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


@dataclass
class Publication:
    """The publication a notebook reads: its id and date (from its manifest) and a read-only connection."""

    publication_id: str
    created_at: datetime | None
    path: Path
    con: duckdb.DuckDBPyConnection
    communities: dict[str, str]          # code -> name

    @property
    def caption(self) -> str:
        when = f", published {self.created_at:%d %B %Y at %H:%M} UTC" if self.created_at else ""
        return f"Publication **{self.publication_id}**{when} (`{self.path}`)."


def open_publication(cli_args: dict) -> tuple[argparse.Namespace, Publication]:
    """Parameters and the publication (the current one unless --publication names another)."""
    params = parameters(cli_args)
    con = connect(params.publication)
    folder = params.publication.resolve().parent
    manifest = folder / "manifest.json"
    meta = json.loads(manifest.read_text()) if manifest.exists() else {}
    created = meta.get("created_at")
    communities = dict(con.execute("SELECT learning_community_code, learning_community_name "
                                   "FROM dim_learning_communities ORDER BY 1").fetchall())
    return params, Publication(meta.get("publication_id", folder.name),
                               datetime.fromisoformat(created) if created else None, params.publication, con, communities)


def community_picker(mo, pub: Publication, requested: str | None):
    """A learning community drop-down (the requested one, else the first) and, when the requested
    code is not in this publication, a message saying so (a script run stops with it instead)."""
    codes = list(pub.communities)
    if not codes:
        raise SystemExit("This publication has no learning communities.")
    message = None
    if requested and requested not in pub.communities:
        text = (f"There is no learning community {requested} in publication {pub.publication_id}. "
                f"Its communities are {', '.join(codes)}.")
        if not mo.running_in_notebook():
            raise SystemExit(text)
        message = mo.callout(mo.md(text + f" Showing {codes[0]}: choose another above."), kind="warn")
        requested = None
    options = {f"{code} {name}": code for code, name in pub.communities.items()}
    label = next(k for k, v in options.items() if v == (requested or codes[0]))
    return mo.ui.dropdown(options=options, value=label, label="Learning community"), message


def period(time_period: int) -> str:
    """An EES time period as people write the academic year: 202324 -> '2023/24'."""
    return f"{time_period // 100}/{time_period % 100:02d}"


def period_expr(column: str = "time_period") -> pl.Expr:
    """``period`` for a polars column."""
    c = pl.col(column)
    return (c // 100).cast(pl.String) + "/" + (c % 100).cast(pl.String).str.zfill(2)


# this community, or its authority (the borough): a WHERE fragment and its parameters
COMMUNITY_OR_BOROUGH = """({alias}learning_community_code = ? OR ({alias}geographic_level = ? AND {alias}old_la_code =
    (SELECT old_la_code FROM dim_learning_communities WHERE learning_community_code = ?)))"""


def community_or_borough(lc: str, alias: str = "") -> tuple[str, list]:
    return COMMUNITY_OR_BOROUGH.format(alias=f"{alias}." if alias else ""), [lc, LOCAL_AUTHORITY, lc]


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.exists():
        raise SystemExit(f"No publication at {path}: run `make demo` first, or pass --publication.")
    return duckdb.connect(str(path), read_only=True)


def numeric(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """Figures as numbers: published ones are numbers already (NULL where withheld or not applicable,
    the reason in <figure>_status); older publications held text ('c', 'z')."""
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
