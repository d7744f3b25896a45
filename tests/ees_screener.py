"""DfE's EES data screener (``eesyscreener`` v0.3.1, dfe-analytical-services/eesyscreener), the rules that
apply to Pathways' open data, written again in Python for the test suite (CI has no R).

Each rule is a function named as the screener names its check (``check_<name>`` / ``precheck_<name>``
in the package's R/ folder); it takes the data file and its ``.meta.csv`` (both read as text, blank
cells as "") and returns the problems it finds (empty: the check passes). Where the screener is known
to miss something the standard asks for, the rule here is the stricter one (blank filter and indicator
cells, indicator columns missing from the data, duplicate column names), as noted beside it.
Lookups are pinned copies of the screener's reference lists (tests/ees_reference/, from
dfe-analytical-services/dfe-published-data-qa data/, commit bcc7ca5).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

REFERENCE = Path(__file__).parent / "ees_reference"
REQ_META = ["col_name", "col_type", "label", "indicator_grouping", "indicator_unit", "indicator_dp", "filter_hint",
            "filter_grouping_column"]
OPTIONAL_META = ["filter_default", "parent_filter"]
REQ_DATA = ["geographic_level", "time_period", "time_identifier", "country_code", "country_name"]
# geographic levels and their columns (code, name, secondary code): geography_df
GEOGRAPHY = {
    "National": ("country_code", "country_name", None), "Regional": ("region_code", "region_name", None),
    "Local authority": ("new_la_code", "la_name", "old_la_code"), "Local authority district": ("lad_code", "lad_name", None),
    "RSC region": (None, "rsc_region_lead_name", None), "Parliamentary constituency": ("pcon_code", "pcon_name", None),
    "Local skills improvement plan area": ("lsip_code", "lsip_name", None),
    "Local enterprise partnership": ("local_enterprise_partnership_code", "local_enterprise_partnership_name", None),
    "English devolved area": ("english_devolved_area_code", "english_devolved_area_name", None),
    "Opportunity area": ("opportunity_area_code", "opportunity_area_name", None), "Ward": ("ward_code", "ward_name", None),
    "MAT": ("trust_id", "trust_name", None), "Sponsor": ("sponsor_id", "sponsor_name", None),
    "School": ("school_urn", "school_name", "school_laestab"), "Provider": ("provider_ukprn", "provider_name", None),
    "Institution": ("institution_id", "institution_name", None), "Planning area": ("planning_area_code", "planning_area_name", None),
    "Police force area": ("pfa_code", "pfa_name", None),
}
GEOGRAPHY_COLUMNS = {c for cols in GEOGRAPHY.values() for c in cols if c}
OB_UNITS = {"time_period", "time_identifier", "geographic_level", *GEOGRAPHY_COLUMNS}
LOW_LEVELS = ["School", "Provider", "Institution"]
# which levels' rows may fill a level's columns (geog_overcompleted_cols); National's are never flagged
COMPATIBLE = {
    "Regional": ["Regional", "Local skills improvement plan area", "Local authority", "Local enterprise partnership",
                 "Opportunity area", "Local authority district", "Parliamentary constituency", "English devolved area",
                 "Ward", *LOW_LEVELS, "Planning area", "Police force area"],
    "Local authority": ["Local authority", "Parliamentary constituency", "Local authority district", "Ward", *LOW_LEVELS,
                        "Planning area", "Police force area"],
}
POTENTIAL_OB_UNITS = re.compile(
    r"(^(country|sch|prov|inst|estab|reg|la|local|rsc|pfa|pcon|lep|mca|oa|ward|mat).*(name|code|urn|ukprn|number|upin|id)$)"
    r"|(^(laestab|estab|sch|school|schools|prov|provider|providers|inst|institution|institutions|name|code|urn|ukprn|"
    r"number|upin|id|region|la|lad|rsc|pcon|lep|mca|oa|ward|mat)$)", re.IGNORECASE)
SMUSHED = ["male", "female", "asian", "chinese", "indian", "pakistani", "bangladeshi", "black", "african", "caribbean",
           "white", "roma", "irish", "english", "british", "scottish", "welsh", "northern irish", "arab"]
UNITS = {"", "%", "pp", "£", "£m", "numberstring"}
HARMONISED = {"sen_status", "sen_primary_need", "sen_secondary_need", "sen_provision", "establishment_type",
              "establishment_type_group", "provider_type", "ethnicity_major", "ethnicity_minor", "ethnicity_detailed",
              "minority_ethnic"}
HARMONISED_PARTS = ["sen_", "primary_need", "secondary_need", "establishment_type", "provider_type", "school_type", "ethnic"]
TIME_GROUPS = [["Autumn and spring term"], ["Calendar year"], ["Financial year"], ["Academic year"], ["Tax year"],
               ["Reporting year"], ["Spring term", "Autumn term", "Summer term"], [f"Week {i}" for i in range(1, 53)],
               ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December"], [f"Financial year Q{i}" for i in range(1, 5)],
               ["Part 1 (April to September)", "Part 2 (October to March)"]]
FOUR_DIGIT = {"Calendar year", "Reporting year", *TIME_GROUPS[7], *TIME_GROUPS[8]}
NULLS = {"NULL", "Null", "null", "NA", "na"}
LEGACY = {"N/A", "n/a", ".", "..", "-"}
BLANK = {"", "x"}


@dataclass
class Pair:
    data: pl.DataFrame
    meta: pl.DataFrame
    data_name: str
    meta_name: str
    header: list[str]

    @property
    def filters(self) -> list[str]:
        return self.meta.filter(pl.col("col_type") == "Filter")["col_name"].to_list()

    @property
    def indicators(self) -> list[str]:
        return self.meta.filter(pl.col("col_type") == "Indicator")["col_name"].to_list()

    @property
    def groups(self) -> list[str]:
        return [g for g in self.meta["filter_grouping_column"].to_list() if g]

    def levels(self) -> list[str]:
        return self.data["geographic_level"].unique().to_list()


def read_pair(data_path: Path, meta_path: Path) -> Pair:
    with open(data_path, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    data = pl.read_csv(data_path, infer_schema_length=0).fill_null("")
    meta = pl.read_csv(meta_path, infer_schema_length=0).fill_null("")
    return Pair(data, meta, data_path.name, meta_path.name, header)


@cache
def _lookup(name: str) -> list[dict]:
    with open(REFERENCE / f"{name}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _filled(values) -> list[str]:
    return [v for v in values if v not in BLANK]


RULES: dict[str, Callable[[Pair], list[str]]] = {}


def rule(fn):
    RULES[fn.__name__] = fn
    return fn


# --- filename ---------------------------------------------------------------------------------
@rule
def filename_spaces(p: Pair) -> list[str]:
    return [n for n in (p.data_name, p.meta_name) if " " in n]


@rule
def filename_special(p: Pair) -> list[str]:
    stems = [re.sub(r"\.meta$", "", n.rsplit(".", 1)[0]) for n in (p.data_name, p.meta_name)]
    return [s for s in stems if not re.fullmatch(r"[A-Za-z0-9_\-\s]+", s)]


@rule
def filenames_match(p: Pair) -> list[str]:
    return [] if p.meta_name == p.data_name.replace(".csv", ".meta.csv") else [p.meta_name]


# --- columns ----------------------------------------------------------------------------------
@rule
def col_req_meta(p: Pair) -> list[str]:
    return [c for c in REQ_META if c not in p.meta.columns]


@rule
def col_invalid_meta(p: Pair) -> list[str]:
    return [c for c in p.meta.columns if c not in REQ_META + OPTIONAL_META]


@rule
def col_req_data(p: Pair) -> list[str]:
    return [c for c in REQ_DATA if c not in p.data.columns]


@rule
def col_to_rows(p: Pair) -> list[str]:
    return [] if len(p.data.columns) - 5 >= p.meta.height else [f"{len(p.data.columns)} columns, {p.meta.height} meta rows"]


@rule
def duplicate_variable_names(p: Pair) -> list[str]:  # the old screener's check; DuckDB renames duplicates silently
    return sorted({c for c in p.header if p.header.count(c) > 1})


@rule
def cross_meta_to_data(p: Pair) -> list[str]:  # indicators too (the R check looks at filters only)
    return [c for c in p.meta["col_name"].to_list() + p.groups if c not in p.data.columns]


@rule
def cross_data_to_meta(p: Pair) -> list[str]:
    listed = set(p.meta["col_name"].to_list() + p.groups)
    return [c for c in p.data.columns if c not in OB_UNITS and c not in listed and p.data[c].n_unique() > 1]


@rule
def col_names_spaces(p: Pair) -> list[str]:
    return [c for c in p.data.columns if re.search(r"\s", c)]


@rule
def col_snake_case(p: Pair) -> list[str]:
    return [c for c in p.data.columns if not re.fullmatch(r"[a-z0-9_]+", c)]


@rule
def col_var_start(p: Pair) -> list[str]:
    return [c for c in p.data.columns if not re.match(r"[a-z]", c)]


@rule
def col_ind_smushed(p: Pair) -> list[str]:
    return [c for c in p.indicators if any(w in c.lower() for w in SMUSHED)]


@rule
def col_var_characteristic(p: Pair) -> list[str]:
    return [c for c in ("characteristic", "characteristic_group") if c in p.meta["col_name"].to_list() + p.groups]


# --- meta -------------------------------------------------------------------------------------
@rule
def meta_col_type(p: Pair) -> list[str]:
    return [t for t in p.meta["col_type"].to_list() if t not in ("Filter", "Indicator")]


@rule
def meta_ob_unit(p: Pair) -> list[str]:
    units = OB_UNITS - {"school_name", "provider_name"}
    return [c for c in p.meta["col_name"].to_list() + p.groups if c in units]


@rule
def meta_col_name(p: Pair) -> list[str]:
    return ["blank col_name"] if any(not c.strip() for c in p.meta["col_name"].to_list()) else []


@rule
def meta_dupe_label(p: Pair) -> list[str]:
    labels = p.meta["label"].to_list()
    return sorted({x for x in labels if labels.count(x) > 1})


@rule
def meta_fil_grp(p: Pair) -> list[str]:
    return p.meta.filter((pl.col("col_type") == "Indicator") & (pl.col("filter_grouping_column") != ""))["col_name"].to_list()


@rule
def meta_fil_grp_dupe(p: Pair) -> list[str]:
    return sorted({g for g in p.groups if p.groups.count(g) > 1})


@rule
def meta_fil_grp_is_fil(p: Pair) -> list[str]:
    return [g for g in p.groups if g not in p.meta["col_name"].to_list()]


@rule
def meta_fil_grp_match(p: Pair) -> list[str]:
    return [g for g in p.groups if g not in p.data.columns]


@rule
def meta_fil_grp_stripped(p: Pair) -> list[str]:
    return [g for g in p.groups if g in p.data.columns and
            p.data[g].n_unique() != p.data[g].str.replace_all(r"[^A-Za-z0-9]", "").n_unique()]


@rule
def meta_label(p: Pair) -> list[str]:
    return p.meta.filter(pl.col("label").str.strip_chars() == "")["col_name"].to_list()


@rule
def meta_filter_hint(p: Pair) -> list[str]:
    return p.meta.filter((pl.col("col_type") == "Indicator") & (pl.col("filter_hint") != ""))["col_name"].to_list()


@rule
def meta_geog_catch(p: Pair) -> list[str]:
    return [c for c in p.filters + p.groups if POTENTIAL_OB_UNITS.search(c)]


@rule
def meta_indicator_dp(p: Pair) -> list[str]:
    return p.meta.filter((pl.col("col_type") == "Filter") & (pl.col("indicator_dp") != ""))["col_name"].to_list()


@rule
def meta_col_name_spaces(p: Pair) -> list[str]:
    return [c for c in p.meta["col_name"].to_list() if re.search(r"\s", c)]


@rule
def meta_col_name_dupe(p: Pair) -> list[str]:
    names = p.meta["col_name"].to_list()
    return sorted({c for c in names if names.count(c) > 1})


@rule
def meta_ind_dp_set(p: Pair) -> list[str]:
    return p.meta.filter((pl.col("col_type") == "Indicator") & (pl.col("indicator_dp") == ""))["col_name"].to_list()


@rule
def meta_ind_dp_values(p: Pair) -> list[str]:
    return [v for v in p.meta["indicator_dp"].to_list() if v and not re.fullmatch(r"[0-9]+(\.0+)?", v)]


@rule
def meta_ind_unit(p: Pair) -> list[str]:
    return p.meta.filter((pl.col("col_type") == "Filter") & (pl.col("indicator_unit") != ""))["col_name"].to_list()


@rule
def meta_ind_unit_validation(p: Pair) -> list[str]:
    return [u for u in p.meta.filter(pl.col("col_type") == "Indicator")["indicator_unit"].to_list() if u not in UNITS]


@rule
def meta_indicator_grouping(p: Pair) -> list[str]:
    return p.meta.filter((pl.col("col_type") == "Filter") & (pl.col("indicator_grouping") != ""))["col_name"].to_list()


# --- time -------------------------------------------------------------------------------------
@rule
def time_period_num(p: Pair) -> list[str]:
    return [t for t in p.data["time_period"].unique().to_list() if not re.fullmatch(r"\d{4}(\d{2})?", t)]


@rule
def time_id_valid(p: Pair) -> list[str]:
    valid = {t for g in TIME_GROUPS for t in g}
    return [t for t in p.data["time_identifier"].unique().to_list() if t not in valid]


@rule
def time_id_mix(p: Pair) -> list[str]:
    ids = p.data["time_identifier"].unique(maintain_order=True).to_list()
    group = next((g for g in TIME_GROUPS if ids[0] in g), [])
    return [t for t in ids if t not in group]


@rule
def time_period(p: Pair) -> list[str]:
    first = p.data["time_identifier"][0]
    length = 4 if first in FOUR_DIGIT else 6
    return [t for t in p.data["time_period"].unique().to_list() if len(t) != length]


@rule
def time_period_six(p: Pair) -> list[str]:
    return [t for t in p.data["time_period"].unique().to_list()
            if len(t) == 6 and (int(t[2:4]) + 1) % 100 != int(t[4:6])]


# --- filters ----------------------------------------------------------------------------------
@rule
def filter_not_singular(p: Pair) -> list[str]:
    return [f for f in p.filters if f in p.data.columns and p.data[f].n_unique() < 2]


@rule
def filter_defaults(p: Pair) -> list[str]:
    problems = []
    defaults = dict(zip(p.meta["col_name"], p.meta["filter_default"] if "filter_default" in p.meta.columns
                        else [""] * p.meta.height, strict=True))
    for f in p.filters:
        default = defaults.get(f) or "Total"
        if default not in p.data[f].to_list():
            problems.append(f"{f}: no {default!r}")
    for g in p.groups:
        if g not in p.meta["col_name"].to_list() and "Total" not in p.data[g].to_list():
            problems.append(f"{g}: no 'Total'")
    return problems


@rule
def filter_group_level(p: Pair) -> list[str]:
    pairs = p.meta.filter(pl.col("filter_grouping_column") != "").select("col_name", "filter_grouping_column").rows()
    return [f for f, g in pairs if p.data[f].n_unique() < p.data[g].n_unique()]


@rule
def filter_item_limit(p: Pair) -> list[str]:
    return [c for c in p.filters + p.groups if p.data[c].n_unique() > 25_000]


@rule
def filter_whitespace(p: Pair) -> list[str]:  # geography columns too (the R check means to, and misses them)
    cols = [c for c in p.filters + p.groups + sorted(GEOGRAPHY_COLUMNS) if c in p.data.columns]
    return [c for c in cols if (p.data[c] != p.data[c].str.strip_chars()).any()]


@rule
def filter_ob_total(p: Pair) -> list[str]:
    cols = [c for c in p.data.columns if (c in OB_UNITS - {"school_name", "provider_name"}) or POTENTIAL_OB_UNITS.search(c)]
    return [c for c in cols if p.data[c].is_in(["Total", "total", "All", "all"]).any()]


@rule
def filter_blanks(p: Pair) -> list[str]:
    return [c for c in p.filters + p.groups if (p.data[c] == "").any()]


# --- geography --------------------------------------------------------------------------------
@rule
def geog_level(p: Pair) -> list[str]:
    return [g for g in p.levels() if g not in GEOGRAPHY]


@rule
def geog_level_present(p: Pair) -> list[str]:
    if p.levels() == ["National"]:
        return []
    return [c for g in p.levels() if g != "Planning area" for c in GEOGRAPHY.get(g, ()) if c and c not in p.data.columns]


def _combos(p: Pair, cols: list[str], lookup: list[tuple]) -> list[str]:
    if not all(c in p.data.columns for c in cols):
        return []
    rows = p.data.select(cols).unique().rows()
    allowed = set(lookup)
    return [str(r) for r in rows if r[0] not in BLANK and r not in allowed]


@rule
def geog_country_combos(p: Pair) -> list[str]:
    return _combos(p, ["country_code", "country_name"], [(r["country_code"], r["country_name"]) for r in _lookup("country")])


@rule
def geog_region_combos(p: Pair) -> list[str]:
    return _combos(p, ["region_code", "region_name"], [(r["region_code"], r["region_name"]) for r in _lookup("regions")])


@rule
def geog_la_combos(p: Pair) -> list[str]:
    cols = ["old_la_code", "new_la_code", "la_name"]
    if not all(c in p.data.columns for c in cols):
        return []
    allowed = {(r["old_la_code"], r["new_la_code"], r["la_name"]) for r in _lookup("las")}
    rows = p.data.select(cols).unique().rows()
    return [str(r) for r in rows if r[1] not in BLANK and r[0] != "" and r not in allowed]


@rule
def geog_level_completed(p: Pair) -> list[str]:
    problems = []
    for g in p.levels():
        if g == "Planning area":
            continue
        rows = p.data.filter(pl.col("geographic_level") == g)
        for c in GEOGRAPHY.get(g, ()):
            if c and c != "new_la_code" and c in rows.columns and (rows[c] == "").any():
                problems.append(f"{g}: {c} blank")
    return problems


@rule
def geog_ignored_rows(p: Pair) -> list[str]:
    levels = set(p.levels())
    if levels <= {"Institution", "Planning area"}:
        return ["every row is ignored by the table tool"]
    return ["School and Provider rows mixed"] if {"School", "Provider"} <= levels else []


@rule
def geog_la_col_present(p: Pair) -> list[str]:
    cols = ["new_la_code", "la_name", "old_la_code"]
    present = [c for c in cols if c in p.data.columns]
    return [c for c in cols if c not in p.data.columns] if present else []


@rule
def geog_region_col_present(p: Pair) -> list[str]:
    cols = ["region_code", "region_name"]
    present = [c for c in cols if c in p.data.columns]
    return [c for c in cols if c not in p.data.columns] if present else []


@rule
def geog_region_for_la(p: Pair) -> list[str]:
    la = p.data.filter(pl.col("geographic_level") == "Local authority")
    if la.height == 0:
        return []
    if not {"region_code", "region_name"} <= set(la.columns):
        return ["no region columns"]
    return ["region blank on an authority row"] if ((la["region_code"] == "") | (la["region_name"] == "")).any() else []


@rule
def geog_overcompleted_cols(p: Pair) -> list[str]:
    problems = []
    for level, allowed in COMPATIBLE.items():
        cols = [c for c in GEOGRAPHY[level] if c and c in p.data.columns]
        for c in cols:
            bad = p.data.filter(~pl.col("geographic_level").is_in(allowed) & (pl.col(c) != ""))
            if bad.height:
                problems.append(f"{c} filled on {bad['geographic_level'].unique().to_list()} rows")
    return problems


# --- general and indicators -------------------------------------------------------------------
@rule
def general_dupes(p: Pair) -> list[str]:
    keys = [c for c in p.data.columns if c in OB_UNITS] + p.filters + [g for g in p.groups if g not in p.filters]
    rows = p.data.filter(~pl.col("geographic_level").is_in(["School", "Provider", "Institution", "Planning area"]))
    dupes = rows.select(keys).is_duplicated().sum()
    return [f"{dupes} duplicated rows"] if dupes else []


@rule
def general_null(p: Pair) -> list[str]:
    found = [c for c in p.data.columns if p.data[c].is_in(sorted(NULLS | LEGACY)).any()]
    found += [f"meta.{c}" for c in p.meta.columns if p.meta[c].is_in(sorted(NULLS)).any()]
    return found


@rule
def ind_invalid_entry(p: Pair) -> list[str]:  # blanks too (the R check reads them as NA and misses them)
    return [c for c in p.indicators if c in p.data.columns and p.data[c].is_in(["", "~", ":"]).any()]


@rule
def harmonised_variables(p: Pair) -> list[str]:
    names = p.meta["col_name"].to_list() + p.groups
    return [c for c in names if any(part in c.lower() for part in HARMONISED_PARTS) and c.lower() not in HARMONISED]


# --- the EES API's limits ---------------------------------------------------------------------
@rule
def api_char_col_name(p: Pair) -> list[str]:
    return [c for c in p.data.columns if len(c) > 50]


@rule
def api_char_col_label(p: Pair) -> list[str]:  # 80, the analysts' guide's limit (the screener allows 100)
    return [x for x in p.meta["label"].to_list() if len(x) > 80]


@rule
def api_char_loc_code(p: Pair) -> list[str]:
    cols = [c for g in GEOGRAPHY.values() for c in (g[0], g[2]) if c and c in p.data.columns]
    return [c for c in cols if p.data[c].str.len_chars().max() > 30]


@rule
def api_char_filter_items(p: Pair) -> list[str]:
    cols = p.filters + p.groups + [g[1] for g in GEOGRAPHY.values() if g[1] in p.data.columns]
    return [c for c in cols if p.data[c].str.len_chars().max() > 120]


@rule
def data_empty_rows(p: Pair) -> list[str]:  # the old screener's check
    return ["an empty row"] if p.data.select(pl.all_horizontal(pl.all() == "")).to_series().any() else []


@rule
def data_empty_cols(p: Pair) -> list[str]:  # the old screener's check
    return [c for c in p.data.columns if (p.data[c] == "").all()]


def screen(data_path: Path, meta_path: Path) -> dict[str, list[str]]:
    """Every rule on one pair: rule name -> problems (none: passed)."""
    p = read_pair(data_path, meta_path)
    return {name: fn(p) for name, fn in RULES.items()}
