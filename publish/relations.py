"""What a reader can combine: every published figure as a variable of one linear system.

The published tables repeat and combine the same counts many times: a breakdown's subgroups
add up to its Total, learning communities add up to their authority, sibling measures share
one denominator, the components of a measure add up, one measure's count can never exceed
another's, some cells are fixed by definition, and the gap, rolling, trend and cohort tables
re-publish outcome cells. This module writes all of that down once, as

    variables   one per distinct count or sum behind a published figure (a numerator of one
                measure in one cell, a denominator shared by the measures of one population, the
                six counts of a transition row), each with its true value and bounds;
    equalities  A_eq x = 0 (every additive relation);
    inequalities A_le x <= b (orderings, count <= its population, structural bounds);
    targets     the expressions whose range must stay wide when withheld: each count, and the
                complements a percentage or transition implies (those not meeting it, those who
                left).

Suppression (publish/suppression.py) chooses which variables to withhold against this system,
and the audit (publish/audit.py) bounds every withheld one with it. Each relation is listed in
docs/methodology.md#what-a-reader-can-combine; a relation stated here is applied only where the
data satisfy it (a reader assuming a definition the data break learns nothing true from it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy import sparse

from config.labels import DISADVANTAGE_BREAKDOWN, DISADVANTAGED, LOCAL_AUTHORITY, NOT_DISADVANTAGED, TOTAL

TOL = 1e-6
REST = "rest of authority"  # pupils at a school with no learning community: in the authority row only

# Cells fixed by the subgroup's own definition (docs/methodology.md#structural-cells):
# 'none' = nobody in the subgroup meets the measure, 'all' = everybody does.
STRUCTURAL = {
    ("disadvantaged_pupils", DISADVANTAGE_BREAKDOWN, DISADVANTAGED): "all",
    ("disadvantaged_pupils", DISADVANTAGE_BREAKDOWN, NOT_DISADVANTAGED): "none",
    ("fsm_eligible_pupils", DISADVANTAGE_BREAKDOWN, NOT_DISADVANTAGED): "none",  # current FSM is within Ever 6
    ("sen_support_pupils", "SEN provision", "SEN support"): "all",
    ("sen_support_pupils", "SEN provision", "EHC plan"): "none",
    ("sen_support_pupils", "SEN provision", "No SEN"): "none",
    ("sen_support_pupils", "SEN provision", "Unclassified"): "none",
    ("sen_support_pupils", "SEN primary need", "No SEN"): "none",
    ("sen_support_pupils", "SEN primary need", "NSA"): "all",
    ("ehc_plan_pupils", "SEN provision", "EHC plan"): "all",
    ("ehc_plan_pupils", "SEN provision", "SEN support"): "none",
    ("ehc_plan_pupils", "SEN provision", "No SEN"): "none",
    ("ehc_plan_pupils", "SEN provision", "Unclassified"): "none",
    ("ehc_plan_pupils", "SEN primary need", "No SEN"): "none",
    ("ehc_plan_pupils", "SEN primary need", "NSA"): "none",
    ("eal_pupils", "First language", "Known or believed to be other than English"): "all",
    ("eal_pupils", "First language", "Known or believed to be English"): "none",
    ("eal_pupils", "First language", "Unclassified"): "none",
    ("arrived_after_autumn_census", "Mobility", "Stable"): "none",
    ("moved_school_in_year", "Mobility", "Stable"): "none",
}

# Within one cell, pupils meeting the first measure also meet the second
# (docs/methodology.md#orderings-between-measures).
ORDERED = [
    ("ks2_rwm_expected", "ks2_reading_expected"), ("ks2_rwm_expected", "ks2_writing_expected"),
    ("ks2_rwm_expected", "ks2_maths_expected"), ("ks2_rwm_higher", "ks2_rwm_expected"),
    ("ks1_rwm_expected", "ks1_reading_expected"), ("ks1_rwm_expected", "ks1_writing_expected"),
    ("ks1_rwm_expected", "ks1_maths_expected"), ("ks4_basics_grade_5", "ks4_basics_grade_4"),
    ("severe_absence", "persistent_absence"),
    ("eyfs_good_level_of_development", "eyfs_communication_language_expected"),
    ("eyfs_good_level_of_development", "eyfs_literacy_expected"),
    # pupils suspended at least once never outnumber suspensions; current FSM is within Ever 6
    ("one_plus_suspension_rate", "suspension_rate"), ("one_plus_suspension_rate_primary", "suspension_rate_primary"),
    ("one_plus_suspension_rate_secondary", "suspension_rate_secondary"), ("fsm_eligible_pupils", "disadvantaged_pupils"),
]
# All three at once: at least reading + writing + maths - 2 x pupils meet all three.
COMBINED = [("ks2_rwm_expected", ("ks2_reading_expected", "ks2_writing_expected", "ks2_maths_expected")),
            ("ks1_rwm_expected", ("ks1_reading_expected", "ks1_writing_expected", "ks1_maths_expected"))]
# A measure whose numerator is the sum of others' (sessions): overall = authorised + unauthorised.
COMPONENTS = [("overall_absence_rate", ("authorised_absence_rate", "unauthorised_absence_rate")),
              ("neet_or_not_known_16_17", ("neet_16_17", "activity_not_known_16_17"))]
# Disjoint parts of a whole (its numerator, denominator and pupils alike): pupils at primary and at
# secondary schools are among all pupils (special schools are the rest, unpublished).
PARTS = [(f"{m}", (f"{m}_primary", f"{m}_secondary"))
         for m in ("permanent_exclusion_rate", "suspension_rate", "one_plus_suspension_rate")]
# Averages whose pupil values can be negative (every other sum is at least 0).
SIGNED = {"ks4_local_progress_8"}
# Cohort stages re-publish these outcome cells (docs/methodology.md#cohort-stages): stage ->
# (headline measure, year group, so the academic year is the Reception year + year group).
STAGE_HEADLINES = {"eyfs": ("eyfs_good_level_of_development", 0), "phonics": ("phonics_y1_met", 1),
                   "ks1": ("ks1_rwm_expected", 2), "ks2": ("ks2_rwm_expected", 6), "ks4": ("ks4_basics_grade_4", 11)}
TRANSITION_COUNTS = ("pupils_tracked", "below_expected_before", "caught_up", "at_expected_before", "fell_behind",
                     "stayed_in_community")


@dataclass(frozen=True)
class Rules:
    """The disclosure settings (docs/methodology.md#primary-suppression, #protection-level)."""
    threshold: int = 5       # withhold figures about this many pupils or fewer
    min_count: int = 3       # withhold counts 1 .. min_count-1, and such complements
    group_max: int = 10      # withhold 0% and 100% of a group of this many pupils or fewer
    protection: int = 3      # a withheld count's range must be at least this wide

    @classmethod
    def from_settings(cls, settings) -> Rules:
        return cls(settings.suppression_threshold, settings.suppression_min_count,
                   settings.suppression_group_disclosure_pupils, settings.disclosure_protection_level)


def sensitive_counts(n: pl.Expr, d: pl.Expr, rules: Rules) -> pl.Expr:
    """Primary rule for a count ``n`` of a group of ``d`` pupils: 1 .. min_count-1 either way, or
    0% / 100% of a group of ``group_max`` or fewer (group disclosure)."""
    few = ((n >= 1) & (n < rules.min_count)) | (((d - n) >= 1) & ((d - n) < rules.min_count))
    everyone = ((n == 0) | (n == d)) & (d >= 1) & (d <= rules.group_max)
    return few | everyone


@dataclass
class System:
    var: pl.DataFrame                 # one row per variable; its row number is its id
    eq: sparse.csr_matrix             # eq @ x == eq_rhs
    eq_rhs: np.ndarray
    le: sparse.csr_matrix             # le @ x <= le_rhs
    le_rhs: np.ndarray
    target: pl.DataFrame              # one row per target: key, var (the variable it belongs to), kind
    target_expr: sparse.csr_matrix    # target_expr @ x is the target
    rows: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # table -> role -> var id per mart row
    eq_names: np.ndarray | None = None  # the relation each row of eq states (for reports)
    le_names: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.var.height


class _Builder:
    """Collects variables (by key) and relations (by variable key), then numbers them once,
    in key order, so the system never depends on the order rows arrive in."""

    def __init__(self):
        self.vars: list[pl.DataFrame] = []
        self.eq: list[pl.DataFrame] = []      # con, key, coef (+ const rows: key null, coef = constant)
        self.le: list[pl.DataFrame] = []      # con, key, coef, with rhs rows (key null)
        self.targets: list[pl.DataFrame] = []  # target, key, coef, var_key, kind
        self.row_maps: dict[str, dict[str, pl.DataFrame]] = {}
        self.aliases: list[pl.DataFrame] = []   # key, to: a count another table shows under its own key

    def alias(self, frame: pl.DataFrame) -> None:
        """The same count published in two tables: relations, targets and rows naming ``key`` name
        the variable ``to`` instead (one count, one variable, withheld everywhere or nowhere)."""
        self.aliases.append(frame.select(pl.col("key").cast(pl.String), pl.col("to").cast(pl.String)))

    VAR_SCHEMA = {"key": pl.String, "table": pl.String, "family": pl.String, "value": pl.Float64, "kind": pl.String,
                  "lo": pl.Float64, "hi": pl.Float64, "sensitive": pl.Boolean, "publishable": pl.Boolean,
                  "unit": pl.String, "region": pl.String, "priority": pl.Int32, "size": pl.Float64,
                  "pop": pl.String, "population": pl.String}

    def add_vars(self, frame: pl.DataFrame) -> None:
        if "pop" not in frame.columns:  # the pupil model an outcome count belongs to (null elsewhere)
            frame = frame.with_columns(pop=pl.lit(None, pl.String))
        if "population" not in frame.columns:  # and its population (pupil model | rule | denominator)
            frame = frame.with_columns(population=pl.lit(None, pl.String))
        self.vars.append(frame.select([pl.col(c).cast(t) for c, t in self.VAR_SCHEMA.items()]))

    def add_eq(self, frame: pl.DataFrame) -> None:
        self.eq.append(frame.select(pl.col("con").cast(pl.String), pl.col("key").cast(pl.String), pl.col("coef").cast(pl.Float64)))

    def add_le(self, frame: pl.DataFrame) -> None:
        self.le.append(frame.select(pl.col("con").cast(pl.String), pl.col("key").cast(pl.String), pl.col("coef").cast(pl.Float64)))

    def add_targets(self, frame: pl.DataFrame) -> None:
        self.targets.append(frame.select(pl.col("target").cast(pl.String), pl.col("key").cast(pl.String),
                                         pl.col("coef").cast(pl.Float64), pl.col("var_key").cast(pl.String),
                                         pl.col("kind").cast(pl.String)))

    def build(self) -> System:
        if self.aliases:
            alias = pl.concat(self.aliases).unique("key", keep="first")
            to = dict(zip(alias["key"], alias["to"], strict=True))

            def rename(f: pl.DataFrame, *cols: str) -> pl.DataFrame:
                return f.with_columns([pl.col(c).replace(to) for c in cols])
            self.vars = [v.filter(~pl.col("key").is_in(alias["key"].implode())) for v in self.vars]
            self.eq = [rename(f, "key") for f in self.eq]
            self.le = [rename(f, "key") for f in self.le]
            self.targets = [rename(f, "key", "var_key") for f in self.targets]
            self.row_maps = {t: {r: rename(k, "key") for r, k in roles.items()} for t, roles in self.row_maps.items()}
        # a variable several rows show: withheld in its own right if any of them says so (never
        # whichever row came first), its largest size
        var = (pl.concat(self.vars).group_by("key")
               .agg(pl.all().exclude("sensitive", "size").min(), pl.col("sensitive").any(), pl.col("size").max())
               .select(list(self.VAR_SCHEMA)).sort("key"))
        ids = var.select("key", pl.int_range(pl.len()).alias("id"))
        var = var.with_columns(unit=pl.col("unit").rank("dense").cast(pl.Int64) - 1,
                               region=pl.col("region").rank("dense").cast(pl.Int64) - 1)
        n = var.height
        value = var["value"].to_numpy()

        def matrix(parts: list[pl.DataFrame]) -> tuple[sparse.csr_matrix, np.ndarray]:
            if not parts:
                return sparse.csr_matrix((0, n)), np.zeros(0), np.zeros(0, object)
            f = pl.concat(parts)
            cons = f.select("con").unique().sort("con").with_columns(row=pl.int_range(pl.len()))
            f = f.join(cons, on="con").join(ids, on="key", how="left")
            missing = f.filter(pl.col("key").is_not_null() & pl.col("id").is_null())
            if missing.height:
                raise ValueError(f"relation names unknown variables, e.g. {missing['key'][0]}")
            terms = f.filter(pl.col("id").is_not_null())
            m = sparse.csr_matrix((terms["coef"].to_numpy(), (terms["row"].to_numpy(), terms["id"].to_numpy())),
                                  shape=(cons.height, n))
            m.sum_duplicates()
            const = f.filter(pl.col("key").is_null()).group_by("row").agg(pl.col("coef").sum())
            rhs = np.zeros(cons.height)
            rhs[const["row"].to_numpy()] = -const["coef"].to_numpy()  # constant moves to the right-hand side
            return m, rhs, cons["con"].to_numpy()

        eq, eq_rhs, eq_names = matrix(self.eq)
        le, le_rhs, le_names = matrix(self.le)
        # keep only the relations the true values satisfy (see the module docstring)
        eq_ok = np.abs(eq @ value - eq_rhs) <= TOL * (1 + np.abs(eq_rhs))
        le_ok = le @ value <= le_rhs + TOL * (1 + np.abs(le_rhs))
        eq, eq_rhs, eq_names = eq[eq_ok], eq_rhs[eq_ok], eq_names[eq_ok]
        le, le_rhs, le_names = le[le_ok], le_rhs[le_ok], le_names[le_ok]

        t = pl.concat(self.targets).join(ids, on="key").join(ids.rename({"key": "var_key", "id": "var"}), on="var_key")
        tkeys = t.select("target", "var", "kind").unique("target").sort("target").with_columns(row=pl.int_range(pl.len()))
        t = t.join(tkeys.select("target", "row"), on="target")
        texpr = sparse.csr_matrix((t["coef"].to_numpy(), (t["row"].to_numpy(), t["id"].to_numpy())), shape=(tkeys.height, n))
        texpr.sum_duplicates()

        rows: dict[str, dict[str, np.ndarray]] = {}
        for table, roles in self.row_maps.items():
            rows[table] = {}
            for role, keys in roles.items():
                mapped = keys.join(ids, on="key", how="left", maintain_order="left")
                rows[table][role] = mapped["id"].fill_null(-1).to_numpy()
        return System(var.drop("key").insert_column(0, var["key"]), eq.tocsr(), eq_rhs, le.tocsr(), le_rhs,
                      tkeys.select("target", "var", "kind"), texpr.tocsr(), rows, eq_names, le_names)


def build_system(marts: dict[str, pl.DataFrame], rules: Rules) -> System:
    """The whole published system for these marts (one or several authorities)."""
    b = _Builder()
    cells = _outcomes(b, marts["learning_community_outcomes"], marts["measures"], rules)
    if "learning_community_cohort_stages" in marts:
        own, own_head = _own_stages(b, marts["learning_community_cohort_stages"], rules)
        cells = pl.concat([cells, own.select(cells.columns).cast(cells.schema)])
    else:
        own_head = []
    _transitions(b, marts["learning_community_cohort_transitions"], cells, rules, own_head)
    _row_counts(b, "gap_index", marts["learning_community_gap_index"], ["time_period", "old_la_code", "stage"],
                {"disadvantaged_pupils": None, "other_pupils": None}, rules)
    if "learning_community_data_quality" in marts:
        _row_counts(b, "data_quality", marts["learning_community_data_quality"],
                    ["time_period", "old_la_code", "cohort", "check_code"], {"pupils": "cohort_pupils"}, rules,
                    shared={"cohort_pupils": ["time_period", "old_la_code", "cohort"]})
        _same_cohorts(b, cells)
    return b.build()


def _same_cohorts(b: _Builder, cells: pl.DataFrame) -> None:
    """A data-quality cohort that is, in every geography and year, the pupils of an outcome
    population's Total (the KS2 cohort checked = the KS2 pupils): the two are one count, one
    variable (withheld in both tables or neither)."""
    values = pl.concat(b.vars).select("key", "value")
    dq = values.filter(pl.col("key").str.starts_with("data_quality|") & pl.col("key").str.ends_with("|cohort_pupils"))
    f = dq["key"].str.split("|").list
    dq = dq.with_columns(tp=f.get(1), la=f.get(2), cohort=f.get(3), geo=f.get(4))
    tot = cells.filter(pl.col("breakdown") == TOTAL).select(
        tp=pl.col("time_period").cast(pl.String), la="old_la_code", geo="geo", okey=pl.concat_list("den_key", "pup_key")
    ).explode("okey").unique().join(values.rename({"key": "okey", "value": "ovalue"}), on="okey").with_columns(
        group=pl.col("okey").str.split("|den:").list.get(1))
    pairs = dq.join(tot, on=["tp", "la", "geo"])
    same = (pairs.group_by("cohort", "group").agg(((pl.col("value") - pl.col("ovalue")).abs() <= TOL).all().alias("_all"))
            .filter(pl.col("_all")).select("cohort", "group"))
    b.alias(pairs.join(same, on=["cohort", "group"]).sort("key", "group").select("key", to="okey"))


def _geo(frame: pl.DataFrame) -> pl.Expr:
    return (pl.when(pl.col("geographic_level") == LOCAL_AUTHORITY).then(pl.lit("LA"))
            .when(pl.col("geographic_level") == REST).then(pl.lit("~rest"))
            .otherwise(pl.col("learning_community_code")))


def _with_rest(frame: pl.DataFrame, keys: list[str], figures: list[str]) -> pl.DataFrame:
    """Add the 'rest of authority' rows (authority minus its learning communities: pupils at a
    school with no learning community) where an authority has any; they are never published,
    but a reader can compute them, so they are cells of the system like any other."""
    # only what is published for learning communities (a breakdown, a measure's breakdown): the rest
    # has no community rows to subtract. A measure published for communities at Total only (rare
    # exclusions) has no rest in its breakdowns: one there would be the authority's whole figure,
    # and stand in (wrongly) for the rest of the measures sharing its denominator
    shown_at_lc = [k for k in ("measure", "breakdown") if k in keys]
    la = frame.filter(pl.col("geographic_level") == LOCAL_AUTHORITY)
    if shown_at_lc:
        la = la.join(frame.filter(pl.col("geographic_level") != LOCAL_AUTHORITY).select(shown_at_lc).unique(),
                     on=shown_at_lc, how="semi", nulls_equal=True)
    lcs = (frame.filter(pl.col("geographic_level") != LOCAL_AUTHORITY).group_by(keys)
           .agg([pl.col(c).sum().alias(f"_{c}") for c in figures]))
    rest = la.join(lcs, on=keys, how="left", nulls_equal=True).with_columns(
        [(pl.col(c) - pl.col(f"_{c}").fill_null(0)).cast(frame.schema[c]).alias(c) for c in figures])
    rest = rest.drop([f"_{c}" for c in figures])
    authorities = rest.filter(pl.any_horizontal([pl.col(c).abs() > TOL for c in figures]))["old_la_code"].unique()
    rest = rest.filter(pl.col("old_la_code").is_in(authorities.implode()) & pl.any_horizontal(
        [pl.col(c).abs() > TOL for c in figures]))
    if rest.height == 0:
        return frame
    rest = rest.with_columns(geographic_level=pl.lit(REST), learning_community_code=pl.lit(None, pl.String))
    return pl.concat([frame, rest.select(frame.columns)])


def _additive(b: _Builder, cells: pl.DataFrame, keys_in: list[str], keys_across: list[str], part: str, whole: str,
              tag: str) -> None:
    """Σ parts - whole = 0 for each group: ``keys_in`` name the group, ``part`` / ``whole`` say
    which rows add up (a boolean column each); every cell has ``key`` (variable) or ``const``."""
    parts = cells.filter(pl.col(part))
    wholes = cells.filter(pl.col(whole))
    con = pl.concat_str([pl.lit(tag), *[pl.col(k).cast(pl.String).fill_null("") for k in keys_in]], separator="|")
    have_whole = wholes.select(con.alias("con")).unique()
    rows = pl.concat([
        parts.select(con.alias("con"), "key", pl.when(pl.col("key").is_null()).then(pl.col("const")).otherwise(1.0).alias("coef")),
        wholes.select(con.alias("con"), "key", pl.when(pl.col("key").is_null()).then(-pl.col("const")).otherwise(-1.0).alias("coef")),
    ]).join(have_whole, on="con", how="semi")
    b.add_eq(rows)


def _outcomes(b: _Builder, outcomes: pl.DataFrame, measures: pl.DataFrame, rules: Rules) -> pl.DataFrame:
    m = measures.select("measure", pl.col("measure_type").alias("_type"),
                        (pl.col("pupil_model") + "|" + pl.col("population") + "|" + pl.col("denominator")).alias("den_group"),
                        (pl.col("denominator") == "1").alias("den_is_pupils"),
                        # where the denominator counts pupils it is the pupils: one variable, not two
                        pl.when(pl.col("denominator") == "1")
                        .then(pl.col("pupil_model") + "|" + pl.col("population") + "|" + pl.col("denominator"))
                        .otherwise(pl.col("pupil_model") + "|" + pl.col("population") + "|pupils").alias("pup_group"))
    published = outcomes.with_row_index("_row")
    cell = ["time_period", "old_la_code", "geo", "breakdown", "subgroup"]
    o = (_with_rest(published, ["time_period", "old_la_code", "measure", "measure_type", "breakdown", "subgroup"],
                    ["numerator", "denominator", "pupils"])
         .with_columns(geo=_geo(published)).join(m, on="measure", how="left"))
    unknown = o.filter(pl.col("den_group").is_null())["measure"].unique().to_list()
    if unknown:
        raise ValueError(f"measures not in the measures seed: {unknown}")
    prefix = pl.concat_str([pl.lit("o"), pl.col("time_period").cast(pl.String), "old_la_code", "geo", "breakdown", "subgroup"],
                           separator="|")
    o = o.with_columns(cell_key=prefix, is_rest=pl.col("geographic_level") == REST,
                       small=(pl.col("pupils") >= 1) & (pl.col("pupils") <= rules.threshold))
    priority = (pl.col("geo") == "LA").cast(pl.Int32) + (pl.col("breakdown") == TOTAL).cast(pl.Int32)
    # a region (see publish/ranges.py): one year, authority, population and breakdown
    region = pl.concat_str([pl.lit("o"), pl.col("time_period").cast(pl.String), "old_la_code", "den_group", "breakdown"],
                           separator="|")

    # denominators: one variable per population cell, shared by the measures of that population
    dens = (o.group_by(*cell, "cell_key", "den_group").agg(
        pl.col("denominator").first().alias("value"), pl.col("denominator").n_unique().alias("_n"),
        pl.col("pupils").max().alias("pupils"), pl.col("den_is_pupils").first(), pl.col("small").any(),
        pl.col("is_rest").first(), pl.len().alias("measures"))
        .with_columns(key=pl.col("cell_key") + "|den:" + pl.col("den_group")))
    # the pupils behind a cell: one variable per population (the denominator itself where it counts pupils)
    pups = (o.group_by(*cell, "cell_key", "pup_group").agg(
        pl.col("pupils").first().cast(pl.Float64).alias("value"), pl.col("pupils").n_unique().alias("_n"),
        pl.col("pupils").max().alias("pupils"), pl.col("small").any(), pl.col("is_rest").first(), pl.len().alias("measures"))
        .with_columns(key=pl.col("cell_key") + "|den:" + pl.col("pup_group"), den_is_pupils=pl.lit(True))
        .rename({"pup_group": "den_group"}))
    dens = pl.concat([dens.with_columns(pl.col("value").cast(pl.Float64)), pups.select(dens.columns)]).unique(
        "key", keep="first", maintain_order=True)
    clash = dens.filter(pl.col("_n") > 1)
    if clash.height:
        raise ValueError(f"measures sharing a population disagree on its denominator: {clash.row(0, named=True)}")
    b.add_vars(dens.select(
        "key", table=pl.lit("outcomes"), family="den:" + pl.col("den_group"), value="value",
        kind=pl.when(pl.col("den_is_pupils")).then(pl.lit("count")).otherwise(pl.lit("sum")),
        lo=pl.lit(0.0), hi=pl.lit(float("inf")), sensitive="small", publishable=~pl.col("is_rest"), unit="key",
        region=region, priority=priority + 1, size=pl.col("pupils") * pl.col("measures"),
        pop=pl.col("den_group").str.split("|").list.first(), population="den_group"))

    # numerators: one per measure and cell, unless fixed by definition or equal to the denominator
    structural = pl.DataFrame([{"measure": k[0], "breakdown": k[1], "subgroup": k[2], "structural": v}
                               for k, v in STRUCTURAL.items()])
    o = o.join(structural, on=["measure", "breakdown", "subgroup"], how="left").with_columns(
        den_key=pl.col("cell_key") + "|den:" + pl.col("den_group"),
        num_key=pl.col("cell_key") + "|num:" + pl.col("measure"))
    n, d = pl.col("numerator"), pl.col("denominator")
    o = o.with_columns(
        role=pl.when((pl.col("_type") == "count") & ((n - d).abs() <= TOL)).then(pl.lit("den"))
        .when((pl.col("structural") == "all") & ((n - d).abs() <= TOL)).then(pl.lit("den"))
        .when((pl.col("structural") == "none") & (n.abs() <= TOL)).then(pl.lit("zero"))
        .otherwise(pl.lit("num")))
    # Sparse measures (docs/methodology.md#sparse-measures): cells the published figures would
    # pin exactly, which no choice of complements can protect.
    # - the authority's Total is 0, 1 or 2 events or pupils (or all but 1 or 2): the measure is
    #   withheld everywhere that year;
    # - an authority cell at 0 (or everyone) pins every community's cell below it: where any of
    #   them is withheld, the whole column is;
    # - a geography whose Total is 1 to `threshold` (or all but that many) has its breakdowns
    #   withheld there: they split a handful of pupils or events;
    # - a geography whose Total is 0 (or everyone) of a group too big to be sensitive has its
    #   breakdowns shown: they say nothing the Total has not said (0 of 200 implies 0 of 3).
    n_, d_ = pl.col("numerator"), pl.col("denominator")
    is_pct = pl.col("_type") == "percentage"
    rated = pl.col("_type").is_in(["percentage", "rate"])
    base = pl.col("small") | (is_pct & sensitive_counts(n_, d_, rules))
    alike = rated & ((n_.abs() <= TOL) | (is_pct & ((n_ - d_).abs() <= TOL)))
    few = rated & ((n_ < rules.min_count - TOL) | (is_pct & ((d_ - n_) < rules.min_count - TOL)))
    thin = rated & ~alike & ((n_ <= rules.threshold + TOL) | (is_pct & ((d_ - n_) <= rules.threshold + TOL)))
    o = o.with_columns(_base=base, _alike=alike, _few=few, _thin=thin)
    total = pl.col("breakdown") == TOTAL
    year = ["time_period", "old_la_code", "measure"]
    col = [*year, "breakdown", "subgroup"]
    row = [*year, "geo"]
    la_total = o.filter((pl.col("geo") == "LA") & total).select(*year, all_forced=pl.col("_few"))
    column = o.group_by(col).agg(col_forced=((pl.col("geo") == "LA") & pl.col("_alike")).any() & pl.col("_base").any())
    geo_total = o.filter(total).select(*row, row_forced=pl.col("_thin"), row_implied=pl.col("_alike") & ~pl.col("_base"))
    o = (o.join(la_total, on=year, how="left").join(column, on=col, how="left").join(geo_total, on=row, how="left")
         .with_columns([pl.col(c).fill_null(False) for c in ("all_forced", "col_forced", "row_forced", "row_implied")]))
    implied = pl.col("row_implied") & ~total & ~pl.col("all_forced")
    forced = pl.col("all_forced") | (pl.col("col_forced") & ~implied) | (pl.col("row_forced") & ~total)
    o = o.with_columns(sparse_forced=forced, sparse_implied=implied).drop(
        "_base", "_alike", "_few", "_thin", "all_forced", "col_forced", "row_forced", "row_implied")
    nums = o.filter(pl.col("role") == "num")
    pct = pl.col("_type") == "percentage"
    b.add_vars(nums.select(
        pl.col("num_key").alias("key"), table=pl.lit("outcomes"), family="num:" + pl.col("measure"), value="numerator",
        kind=pl.when(pct).then(pl.lit("count")).otherwise(pl.lit("sum")),
        lo=pl.when(pl.col("measure").is_in(list(SIGNED))).then(float("-inf")).otherwise(0.0), hi=pl.lit(float("inf")),
        sensitive=pl.col("sparse_forced") | ((pl.col("small") | (pct & sensitive_counts(n, d, rules))) & ~pl.col("sparse_implied")),
        publishable=~pl.col("is_rest"),
        unit="num_key", region=region, priority=priority, size="denominator", pop=pl.col("den_group").str.split("|").list.first(),
        population="den_group"))
    o = o.with_columns(
        num_var=pl.when(pl.col("role") == "num").then(pl.col("num_key")).when(pl.col("role") == "den")
        .then(pl.col("den_key")).otherwise(None),
        num_const=pl.when(pl.col("role") == "zero").then(0.0).otherwise(None))

    # additive relations, per family (a measure's numerators; a population's denominators)
    num_cells = o.select(*cell, family="num:" + pl.col("measure"), key="num_var", const="num_const")
    den_cells = dens.select(*cell, family="den:" + pl.col("den_group"), key="key", const=pl.lit(None, pl.Float64))
    for cells in (num_cells, den_cells):
        cells = cells.with_columns(is_total=pl.col("breakdown") == TOTAL, is_la=pl.col("geo") == "LA")
        # a breakdown's subgroups add up to the Total of the same geography
        totals = cells.filter(pl.col("is_total")).drop("breakdown", "subgroup")
        sub = cells.filter(~pl.col("is_total")).with_columns(_part=pl.lit(True), _whole=pl.lit(False))
        breakdowns = sub.select("family", "time_period", "old_la_code", "geo", "breakdown").unique()
        whole = totals.join(breakdowns, on=["family", "time_period", "old_la_code", "geo"]).with_columns(
            subgroup=pl.lit(TOTAL), _part=pl.lit(False), _whole=pl.lit(True))
        _additive(b, pl.concat([sub, whole.select(sub.columns)]), ["family", "time_period", "old_la_code", "geo", "breakdown"],
                  [], "_part", "_whole", "sub")
        # learning communities (and the rest of the authority) add up to the authority, in the
        # breakdowns of each measure published for learning communities (there, a missing community
        # row is a 0; a measure published for communities at Total only has no such relation)
        at_lc = cells.filter(~pl.col("is_la")).select("family", "time_period", "old_la_code", "breakdown").unique()
        geo = cells.join(at_lc, on=["family", "time_period", "old_la_code", "breakdown"], how="semi").with_columns(
            _part=~pl.col("is_la"), _whole=pl.col("is_la"))
        _additive(b, geo, ["family", "time_period", "old_la_code", "breakdown", "subgroup"], [], "_part", "_whole", "geo")

    # within one cell: a count never exceeds its population; orderings; components; populations
    keyed = o.select(*cell, "measure", "_type", "num_var", "num_const", "den_key", "den_group", "cell_key")
    le = [keyed.filter(pl.col("_type").is_in(["percentage", "rate"]) & pl.col("num_var").is_not_null()
                       & (pl.col("num_var") != pl.col("den_key")))
          .select(con="le:pop|" + pl.col("num_var"), pairs=pl.concat_list([pl.struct(key="num_var", coef=pl.lit(1.0)),
                                                                             pl.struct(key="den_key", coef=pl.lit(-1.0))]))]
    wide = keyed.select("cell_key", "measure", "num_var", "num_const")
    for a, c in ORDERED:
        pair = (wide.filter(pl.col("measure") == a).join(wide.filter(pl.col("measure") == c), on="cell_key", suffix="_b"))
        le.append(pair.select(con="le:ord|" + pl.col("cell_key") + "|" + pl.lit(f"{a}<={c}"), pairs=pl.concat_list([
            _term("num_var", "num_const", 1.0), _term("num_var_b", "num_const_b", -1.0)])))
    for whole_m, parts_m in COMBINED:
        f = wide.filter(pl.col("measure") == whole_m).join(
            keyed.select("cell_key", "measure", "den_key").filter(pl.col("measure") == whole_m).drop("measure"), on="cell_key")
        for i, p in enumerate(parts_m):
            f = f.join(wide.filter(pl.col("measure") == p).drop("measure"), on="cell_key", suffix=f"_{i}")
        # parts - 2 x pupils - whole <= 0
        terms = [_term(f"num_var_{i}", f"num_const_{i}", 1.0) for i in range(len(parts_m))]
        le.append(f.select(con="le:all3|" + pl.col("cell_key") + "|" + pl.lit(whole_m), pairs=pl.concat_list([
            *terms, pl.struct(key="den_key", coef=pl.lit(-2.0)), _term("num_var", "num_const", -1.0)])))
    eqs = []
    for whole_m, parts_m in COMPONENTS:
        f = wide.filter(pl.col("measure") == whole_m)
        for i, p in enumerate(parts_m):
            f = f.join(wide.filter(pl.col("measure") == p).drop("measure"), on="cell_key", suffix=f"_{i}")
        terms = [_term(f"num_var_{i}", f"num_const_{i}", -1.0) for i in range(len(parts_m))]
        eqs.append(f.select(con="eq:parts|" + pl.col("cell_key") + "|" + pl.lit(whole_m),
                            pairs=pl.concat_list([_term("num_var", "num_const", 1.0), *terms])))
    # a count that is its cell's pupils wherever published (three- and four-year-olds' take-up: the
    # pupils are the registered children, the denominator the ONS population): numerator = pupils
    same = o.group_by("measure").agg(((pl.col("numerator") - pl.col("pupils")).abs() <= TOL).all().alias("_same"),
                                     pl.col("den_is_pupils").first().alias("_dp"))
    counted = same.filter(pl.col("_same") & ~pl.col("_dp"))["measure"]
    eqs.append(o.filter(pl.col("measure").is_in(counted.implode()) & pl.col("num_var").is_not_null()).select(
        con="eq:counted|" + pl.col("num_var"), pairs=pl.concat_list([
            pl.struct(key="num_var", coef=pl.lit(1.0)),
            pl.struct(key=pl.col("cell_key") + "|den:" + pl.col("pup_group"), coef=pl.lit(-1.0))])))
    # a population is part of the whole cohort of its model: den(population) <= den(everyone)
    groups = dens.select("cell_key", "den_group", "key", "den_is_pupils").with_columns(
        model=pl.col("den_group").str.split("|").list.first(), pop=pl.col("den_group").str.split("|").list.get(1))
    everyone = groups.filter((pl.col("pop") == "true") & pl.col("den_is_pupils")).select(
        "cell_key", "model", pl.col("key").alias("all_key"))
    subsets = groups.filter((pl.col("pop") != "true") & pl.col("den_is_pupils")).join(everyone, on=["cell_key", "model"])
    le.append(subsets.select(con="le:subset|" + pl.col("key"), pairs=pl.concat_list([
        pl.struct(key="key", coef=pl.lit(1.0)), pl.struct(key="all_key", coef=pl.lit(-1.0))])))
    # parts of a whole (primary + secondary <= all): numerators, denominators and pupils
    keyed_p = o.select("cell_key", "measure", "num_var", "num_const", "den_key",
                       pup_key=pl.col("cell_key") + "|den:" + pl.col("pup_group"))
    for whole_m, parts_m in PARTS:
        f = keyed_p.filter(pl.col("measure") == whole_m)
        for i, p in enumerate(parts_m):
            f = f.join(keyed_p.filter(pl.col("measure") == p).drop("measure"), on="cell_key", suffix=f"_{i}")
        le.append(f.select(con="le:parts|" + pl.col("cell_key") + "|" + pl.lit(whole_m), pairs=pl.concat_list([
            *[_term(f"num_var_{i}", f"num_const_{i}", 1.0) for i in range(len(parts_m))], _term("num_var", "num_const", -1.0)])))
        for fig in ("den_key", "pup_key"):
            le.append(f.select(con=f"le:parts{fig}|" + pl.col("cell_key") + "|" + pl.lit(whole_m), pairs=pl.concat_list([
                *[pl.struct(key=f"{fig}_{i}", coef=pl.lit(1.0)) for i in range(len(parts_m))],
                pl.struct(key=fig, coef=pl.lit(-1.0))])))
    # two populations of one pupil model with the same number of pupils in every cell (16-17 year olds
    # tracked over the winter and in March): a reader sees the one in the other, so they are equal
    pops = dens.select("cell_key", "den_group", "key", "value", model=pl.col("den_group").str.split("|").list.first())
    pairs_ = pops.join(pops, on=["cell_key", "model"], suffix="_b").filter(pl.col("den_group") < pl.col("den_group_b"))
    alike = (pairs_.group_by("den_group", "den_group_b").agg(((pl.col("value") - pl.col("value_b")).abs() <= TOL).all()
                                                             .alias("_all"), pl.len().alias("_n"))
             .filter(pl.col("_all")).select("den_group", "den_group_b"))
    eqs.append(pairs_.join(alike, on=["den_group", "den_group_b"]).filter(pl.col("key") != pl.col("key_b")).select(
        con="eq:alike|" + pl.col("key") + "|" + pl.col("den_group_b"), pairs=pl.concat_list([
            pl.struct(key="key", coef=pl.lit(1.0)), pl.struct(key="key_b", coef=pl.lit(-1.0))])))
    # the pupils of a population are its denominator where that counts pupils
    tie = (dens.filter(pl.col("den_group").str.ends_with("|pupils"))
           .with_columns(_g=pl.col("den_group").str.replace(r"\|pupils$", "|1"))
           .join(dens.select("cell_key", pl.col("den_group").alias("_g"), pl.col("key").alias("_k")), on=["cell_key", "_g"]))
    eqs.append(tie.select(con="eq:pupils|" + pl.col("key"), pairs=pl.concat_list([
        pl.struct(key="key", coef=pl.lit(1.0)), pl.struct(key="_k", coef=pl.lit(-1.0))])))
    for parts in le:
        b.add_le(_explode(parts))
    for parts in eqs:
        b.add_eq(_explode(parts))

    # targets: every count and sum; and, for percentages, those not meeting it
    b.add_targets(dens.select(target="key", key="key", coef=pl.lit(1.0), var_key="key",
                              kind=pl.when(pl.col("den_is_pupils")).then(pl.lit("count")).otherwise(pl.lit("sum"))))
    b.add_targets(nums.select(target="num_key", key="num_key", coef=pl.lit(1.0), var_key="num_key",
                              kind=pl.when(pct).then(pl.lit("count")).otherwise(pl.lit("sum"))))
    comp = nums.filter(pct)
    b.add_targets(pl.concat([
        comp.select(target=pl.col("num_key") + "|not", key="den_key", coef=pl.lit(1.0), var_key="num_key", kind=pl.lit("count")),
        comp.select(target=pl.col("num_key") + "|not", key="num_key", coef=pl.lit(-1.0), var_key="num_key", kind=pl.lit("count")),
    ]))

    pub = o.filter(~pl.col("is_rest")).sort("_row")
    b.row_maps["learning_community_outcomes"] = {
        "numerator": pub.select(pl.col("num_var").alias("key")),
        "denominator": pub.select(pl.col("den_key").alias("key")),
        "pupils": pub.select((pl.col("cell_key") + "|den:" + pl.col("pup_group")).alias("key")),
    }
    return o.filter(~pl.col("is_rest")).select("time_period", "old_la_code", "geo", "subgroup", "breakdown", "measure",
                                               "num_var", "num_const", "den_key",
                                               (pl.col("cell_key") + "|den:" + pl.col("pup_group")).alias("pup_key"))


OWN_STAGE = "stage:"  # the measure name a stage with its own counts goes by in the stage cells


def own_stage_rows(stages: pl.DataFrame) -> pl.Series:
    """Cohort-stage rows whose headline is no outcome measure (age 17: in education, employment or
    training at the end of March): their counts are variables of their own."""
    return ~stages["stage"].is_in(list(STAGE_HEADLINES))


def _own_stages(b: _Builder, stages: pl.DataFrame, rules: Rules) -> tuple[pl.DataFrame, list[dict]]:
    """A stage whose headline no outcome cell repeats: numerator and pupils per cohort, geography
    and group, communities adding up to the authority and the two groups to the Total; returned
    as stage cells (measure stage:<stage>) for the transitions' relations, with each stage's year
    group (its year minus the Reception year)."""
    own = stages.filter(own_stage_rows(stages))
    keys = ["time_period", "old_la_code", "reception_year", "stage", "subgroup"]
    _row_counts(b, "stages", own, keys, {"numerator": "denominator"}, rules)
    f = _with_rest(own.with_columns(breakdown=pl.lit("stages")), [*keys, "breakdown"], ["numerator", "denominator"])
    f = f.with_columns(geo=_geo(f))

    def key_of(col: str) -> pl.Expr:
        return pl.concat_str([pl.lit("stages"), *[pl.col(k).cast(pl.String).fill_null("") for k in keys], "geo",
                              pl.lit(col)], separator="|")
    for col in ("numerator", "denominator"):
        cells = f.select("time_period", "old_la_code", "reception_year", "stage", "geo", family=pl.lit(col), key=key_of(col),
                         const=pl.lit(None, pl.Float64), _part=pl.col("subgroup") != TOTAL,
                         _whole=pl.col("subgroup") == TOTAL)
        _additive(b, cells, ["family", "time_period", "old_la_code", "reception_year", "stage", "geo"], [], "_part", "_whole",
                  "stagesub")
    head = own.select("stage", _yg=pl.col("time_period").cast(pl.String).str.slice(0, 4).cast(pl.Int64)
                      - pl.col("reception_year")).unique().sort("stage")
    return f.filter(pl.col("geographic_level") != REST).select(
        "time_period", "old_la_code", "geo", "subgroup", "breakdown", measure=OWN_STAGE + pl.col("stage"),
        num_var=key_of("numerator"), num_const=pl.lit(None, pl.Float64), den_key=key_of("denominator"),
        pup_key=key_of("denominator")), [{"stage": st, "_measure": OWN_STAGE + st, "_yg": y} for st, y in head.iter_rows()]


def _term(key_col: str, const_col: str, coef: float) -> pl.Expr:
    """A term of a relation: the variable, or (where the cell is fixed) its constant."""
    return pl.struct(key=pl.col(key_col), coef=pl.when(pl.col(key_col).is_null()).then(pl.col(const_col) * coef)
                     .otherwise(pl.lit(coef)))


def _explode(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.explode("pairs").unnest("pairs").select("con", "key", "coef").filter(pl.col("coef").is_not_null())


def _transitions(b: _Builder, moves: pl.DataFrame, outcome_cells: pl.DataFrame, rules: Rules,
                 own_head: list[dict] = ()) -> None:
    """Cohort transitions: six counts per row, withheld together (docs/methodology.md#transitions-relations)."""
    counts = list(TRANSITION_COUNTS)
    published = moves.with_row_index("_row")
    keys = ["reception_year", "from_stage", "to_stage", "old_la_code", "subgroup"]
    m = _with_rest(published.with_columns(breakdown=pl.lit("Transition")), [*keys, "breakdown"], counts)
    m = m.with_columns(geo=_geo(m), is_rest=pl.col("geographic_level") == REST)
    m = m.with_columns(row_key=pl.concat_str([pl.lit("t"), pl.col("reception_year").cast(pl.String), "old_la_code", "geo",
                                              pl.col("from_stage") + ">" + pl.col("to_stage"), "subgroup"], separator="|"))
    c = {k: pl.col(k) for k in counts}
    tracked, below, caught, at, fell, stayed = (c[k] for k in counts)
    sens = ((tracked >= 1) & (tracked <= rules.threshold)) | pl.any_horizontal(
        [(x >= 1) & (x < rules.min_count) for x in (below, caught, at, fell, stayed, tracked - stayed, below - caught, at - fell)])
    everyone = [((n == 0) | (n == d)) & (d >= 1) & (d <= rules.group_max)
                for n, d in ((caught, below), (fell, at), (stayed, tracked), (below, tracked))]
    m = m.with_columns(sensitive=sens | pl.any_horizontal(everyone))
    priority = (pl.col("geo") == "LA").cast(pl.Int32) + (pl.col("subgroup") == TOTAL).cast(pl.Int32)
    for k in counts:
        b.add_vars(m.select(key=pl.col("row_key") + "|" + k, table=pl.lit("transitions"), family=pl.lit("t:" + k),
                            value=pl.col(k), kind=pl.lit("count"), lo=pl.lit(0.0), hi=pl.lit(float("inf")),
                            sensitive="sensitive", publishable=~pl.col("is_rest"), unit="row_key",
                            region=pl.concat_str([pl.lit("t"), pl.col("reception_year").cast(pl.String), "old_la_code",
                                                  pl.col("from_stage") + ">" + pl.col("to_stage")], separator="|"),
                            priority=priority, size="pupils_tracked"))
    key = {k: pl.col("row_key") + "|" + k for k in counts}
    # tracked = below + at
    b.add_eq(_explode(m.select(con="eq:tracked|" + pl.col("row_key"), pairs=pl.concat_list([
        pl.struct(key=key["pupils_tracked"], coef=pl.lit(1.0)), pl.struct(key=key["below_expected_before"], coef=pl.lit(-1.0)),
        pl.struct(key=key["at_expected_before"], coef=pl.lit(-1.0))]))))
    # caught up <= below; fell behind <= at; stayed <= tracked
    for part, whole in (("caught_up", "below_expected_before"), ("fell_behind", "at_expected_before"),
                        ("stayed_in_community", "pupils_tracked")):
        b.add_le(_explode(m.select(con=f"le:{part}|" + pl.col("row_key"), pairs=pl.concat_list([
            pl.struct(key=key[part], coef=pl.lit(1.0)), pl.struct(key=key[whole], coef=pl.lit(-1.0))]))))
    # subgroups add up to the Total; communities (and the rest) to the authority
    for k in counts:
        cells = m.select("reception_year", "from_stage", "to_stage", "old_la_code", "geo", "subgroup",
                         family=pl.lit(k), key=key[k], const=pl.lit(None, pl.Float64))
        sub = cells.with_columns(_part=pl.col("subgroup") != TOTAL, _whole=pl.col("subgroup") == TOTAL)
        _additive(b, sub, ["family", "reception_year", "from_stage", "to_stage", "old_la_code", "geo"], [], "_part", "_whole",
                  "tsub")
        geo = cells.with_columns(_part=pl.col("geo") != "LA", _whole=pl.col("geo") == "LA")
        _additive(b, geo, ["family", "reception_year", "from_stage", "to_stage", "old_la_code", "subgroup"], [], "_part",
                  "_whole", "tgeo")
    # against the cohort's stages (outcome cells): the earlier stage, same geography and group;
    # the later stage for the authority's Total (pupils stay in the authority's schools)
    # (stages with counts of their own, such as age 17, come as cells of measure stage:<stage>)
    head = pl.DataFrame([*({"stage": s_, "_measure": mm, "_yg": y} for s_, (mm, y) in STAGE_HEADLINES.items()), *own_head])
    stage = outcome_cells.select("time_period", "old_la_code", "geo", "subgroup", pl.col("measure").alias("_measure"),
                                 "num_var", "num_const", "den_key")
    def at_stage(frame: pl.DataFrame, which: str, geo: pl.Expr, subgroup: pl.Expr) -> pl.DataFrame:
        f = frame.join(head, left_on=which, right_on="stage").with_columns(
            time_period=((pl.col("reception_year") + pl.col("_yg")) * 100 + (pl.col("reception_year") + pl.col("_yg") + 1) % 100
                         ).cast(stage.schema["time_period"]), _geo=geo, _sub=subgroup)
        return f.join(stage, left_on=["time_period", "old_la_code", "_geo", "_sub", "_measure"],
                      right_on=["time_period", "old_la_code", "geo", "subgroup", "_measure"])
    pub = m.filter(~pl.col("is_rest"))
    a = at_stage(pub, "from_stage", pl.col("geo"), pl.col("subgroup"))
    rels = [
        a.select(con="le:trackedA|" + pl.col("row_key"), pairs=pl.concat_list([
            pl.struct(key=key["pupils_tracked"], coef=pl.lit(1.0)), pl.struct(key="den_key", coef=pl.lit(-1.0))])),
        a.select(con="le:atA|" + pl.col("row_key"), pairs=pl.concat_list([
            pl.struct(key=key["at_expected_before"], coef=pl.lit(1.0)), _term("num_var", "num_const", -1.0)])),
        a.select(con="le:belowA|" + pl.col("row_key"), pairs=pl.concat_list([
            pl.struct(key=key["below_expected_before"], coef=pl.lit(1.0)), pl.struct(key="den_key", coef=pl.lit(-1.0)),
            _term("num_var", "num_const", 1.0)])),
    ]
    z = at_stage(pub.filter((pl.col("geo") == "LA") & (pl.col("subgroup") == TOTAL)), "to_stage", pl.col("geo"), pl.col("subgroup"))
    rels += [
        z.select(con="le:trackedB|" + pl.col("row_key"), pairs=pl.concat_list([
            pl.struct(key=key["pupils_tracked"], coef=pl.lit(1.0)), pl.struct(key="den_key", coef=pl.lit(-1.0))])),
        z.select(con="le:metB|" + pl.col("row_key"), pairs=pl.concat_list([   # caught up + stayed at expected <= met at B
            pl.struct(key=key["caught_up"], coef=pl.lit(1.0)), pl.struct(key=key["at_expected_before"], coef=pl.lit(1.0)),
            pl.struct(key=key["fell_behind"], coef=pl.lit(-1.0)), _term("num_var", "num_const", -1.0)])),
        z.select(con="le:notB|" + pl.col("row_key"), pairs=pl.concat_list([   # still below + fell behind <= not met at B
            pl.struct(key=key["below_expected_before"], coef=pl.lit(1.0)), pl.struct(key=key["caught_up"], coef=pl.lit(-1.0)),
            pl.struct(key=key["fell_behind"], coef=pl.lit(1.0)), pl.struct(key="den_key", coef=pl.lit(-1.0)),
            _term("num_var", "num_const", 1.0)])),
    ]
    for r in rels:
        b.add_le(_explode(r))
    # targets: the six counts, and those who stayed below, kept up, and left the community
    b.add_targets(pl.concat([m.select(target=key[k], key=key[k], coef=pl.lit(1.0), var_key=key[k], kind=pl.lit("count"))
                             for k in counts]))
    for name, plus, minus in (("still_below", "below_expected_before", "caught_up"), ("kept_up", "at_expected_before", "fell_behind"),
                              ("left", "pupils_tracked", "stayed_in_community")):
        b.add_targets(pl.concat([
            m.select(target=pl.col("row_key") + "|" + name, key=key[plus], coef=pl.lit(1.0), var_key=key[plus], kind=pl.lit("count")),
            m.select(target=pl.col("row_key") + "|" + name, key=key[minus], coef=pl.lit(-1.0), var_key=key[plus], kind=pl.lit("count")),
        ]))
    b.row_maps["learning_community_cohort_transitions"] = {
        k: pub.sort("_row").select((pl.col("row_key") + "|" + k).alias("key")) for k in counts}


def _row_counts(b: _Builder, table: str, frame: pl.DataFrame, keys: list[str], counts: dict[str, str | None],
                rules: Rules, shared: dict[str, list[str]] | None = None) -> None:
    """A table of pupil counts by geography (gap index, data quality): each count a variable,
    learning communities (and the rest of the authority) adding up to the authority; a count
    ``n`` of a group (``counts[n]``) is withheld as a percentage's numerator would be.
    ``shared``: counts that several rows repeat (one variable per ``shared[c]`` keys)."""
    shared = shared or {}
    figures = [*counts, *[c for c in counts.values() if c]]
    f = frame.with_row_index("_row")
    f = _with_rest(f.with_columns(breakdown=pl.lit(table)), [*keys, "breakdown"], figures)
    f = f.with_columns(geo=_geo(f), is_rest=pl.col("geographic_level") == REST)

    def key_of(col: str) -> pl.Expr:
        ks = shared.get(col, keys)
        return pl.concat_str([pl.lit(table), *[pl.col(k).cast(pl.String).fill_null("") for k in ks], "geo", pl.lit(col)],
                             separator="|")
    sens = pl.lit(False)
    for n, d in counts.items():
        sens = sens | ((pl.col(n) >= 1) & (pl.col(n) <= rules.threshold) if d is None else
                       ((pl.col(d) >= 1) & (pl.col(d) <= rules.threshold)) | sensitive_counts(pl.col(n), pl.col(d), rules))
    f = f.with_columns(_sens=sens, unit=pl.concat_str([pl.lit(table), *[pl.col(k).cast(pl.String).fill_null("") for k in keys],
                                                       "geo"], separator="|"))
    for col in figures:
        b.add_vars(f.select(key=key_of(col), table=pl.lit(table), family=pl.lit(f"{table}:{col}"),
                            value=pl.col(col).cast(pl.Float64), kind=pl.lit("count"),
                            # these tables hardly ever withhold a 0 (no rule makes one sensitive), so a
                            # reader takes a withheld count to be at least 1: so does the system
                            lo=pl.when(pl.col(col) >= 1).then(1.0).otherwise(0.0), hi=pl.lit(float("inf")),
                            sensitive="_sens", publishable=~pl.col("is_rest"),
                            unit=pl.col("unit") if col not in shared else key_of(col),
                            region=pl.lit(table + "|") + pl.col("time_period").cast(pl.String), priority=pl.lit(2),
                            size=pl.col(col).cast(pl.Float64)))
        ks = shared.get(col, keys)
        cells = f.select(*dict.fromkeys([*ks, "old_la_code", "geo"]), key=key_of(col),
                         const=pl.lit(None, pl.Float64)).unique("key", keep="first").sort("key")
        cells = cells.with_columns(family=pl.lit(col), _part=pl.col("geo") != "LA", _whole=pl.col("geo") == "LA")
        _additive(b, cells, ["family", *dict.fromkeys([*ks, "old_la_code"])], [], "_part", "_whole", f"{table}geo")
        b.add_targets(f.select(target=key_of(col), key=key_of(col), coef=pl.lit(1.0), var_key=key_of(col), kind=pl.lit("count")))
    for n, d in counts.items():
        if d:
            b.add_le(_explode(f.select(con=f"le:{table}|" + key_of(n), pairs=pl.concat_list([
                pl.struct(key=key_of(n), coef=pl.lit(1.0)), pl.struct(key=key_of(d), coef=pl.lit(-1.0))]))))
            b.add_targets(pl.concat([
                f.select(target=key_of(n) + "|not", key=key_of(d), coef=pl.lit(1.0), var_key=key_of(n), kind=pl.lit("count")),
                f.select(target=key_of(n) + "|not", key=key_of(n), coef=pl.lit(-1.0), var_key=key_of(n), kind=pl.lit("count"))]))
    pub = f.filter(~pl.col("is_rest")).sort("_row")
    b.row_maps[table] = {c: pub.select(key_of(c).alias("key")) for c in figures}
