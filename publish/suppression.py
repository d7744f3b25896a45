"""Which figures to withhold: primary rules, then complementary cells chosen against the whole
published system (docs/methodology.md#disclosure-control).

Primary (docs/methodology.md#primary-suppression): a figure about ``threshold`` pupils or fewer;
a count of 1 .. ``min_count``-1 pupils meeting - or not meeting - a measure; 0% or 100% of a
group of ``group_max`` pupils or fewer (group disclosure).

Secondary (docs/methodology.md#secondary-suppression): the variables of publish/relations.py
are withheld until no withheld count can be narrowed below the protection level by anything a
reader can combine. First a fast pass over the additive relations (no relation may hold a single
withheld figure); then rounds of the audit's own bounds (publish/ranges.py): in each block with
a figure still too narrow, the best neighbouring published figure is withheld too, until none is.
Every choice is made in a fixed order of keys (the cell's year, geography, measure, breakdown,
subgroup), never in row order, so the same data always give the same withheld cells.

Derived tables follow from the variables (docs/methodology.md#suppression-of-derived-tables):
a gap or trend is published only when every cell it is computed from is; a rolling figure only
when every year it pools is ("all or none").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from config.labels import DISADVANTAGE_BREAKDOWN, DISADVANTAGED, NOT_DISADVANTAGED, TOTAL
from publish.relations import COMBINED, ORDERED, PARTS, STAGE_HEADLINES, Rules, System, build_system, own_stage_rows

GEO = ["time_period", "measure", "geographic_level", "old_la_code", "learning_community_code"]
MAX_ROUNDS = 20
REPAIR_TRIES = 60
COARSEN_AFTER = 5   # repair rounds of finer choices before a still-narrow figure's table is withheld
_debug = False


@dataclass
class Disclosure:
    """The decision for one publication: the system, which variables are withheld, and the
    flags each published table's columns are withheld with."""
    system: System
    hidden: np.ndarray
    primary: np.ndarray
    flags: dict[str, dict[str, pl.Series]]
    rounds: int = 0
    coarsened: list[str] = field(default_factory=list)  # tables withheld whole (docs/methodology.md#publishing-less)


def decide(marts: dict[str, pl.DataFrame], rules: Rules, known: np.ndarray | None = None,
           system: System | None = None) -> Disclosure:
    """Withhold what must be withheld. ``known``: variables already public (for example in an
    earlier publication still on disk); they cannot be withheld again."""
    system = system or build_system(marts, rules)
    var = system.var
    primary = var["sensitive"].to_numpy() | ~var["publishable"].to_numpy()
    hidden = primary.copy()
    if known is not None:
        hidden &= ~known | ~var["publishable"].to_numpy()
    lockable = var["publishable"].to_numpy() & (known is None or ~known)  # may be withheld as a complement
    expand = _units(system)
    hidden = expand(hidden)
    rank = _preference(system, rules, hidden)
    # a figure at a corner of a rectangle checked against the whole system can move by the
    # protection level: certified, whatever else is withheld or shown later
    certified = np.zeros(system.n, bool)
    hidden = expand(_rectangles(system, hidden, lockable, rules, rank, certified=certified))
    hidden = expand(_transition_rectangles(system, hidden, lockable, rules, rank))
    hidden = expand(_capacity_pass(system, hidden, lockable, rules, rank, expand))
    coarsened: list[str] = []
    hidden, rounds = _repair(system, hidden, lockable, rules, rank, expand, certified, coarsened)
    return Disclosure(system, hidden, primary, table_flags(marts, system, hidden, rules), rounds, coarsened)


def _repair(system: System, hidden: np.ndarray, lockable: np.ndarray, rules: Rules, rank: np.ndarray,
            expand, certified: np.ndarray, coarsened: list[str]) -> tuple[np.ndarray, int]:
    """Rounds of the audit's own exact ranges (publish/ranges.py): for each withheld figure a
    reader could still narrow below the protection level, the best-ranked published figure sharing
    a relation with it is withheld too; only the blocks that changed are solved again."""
    from publish.ranges import block_signatures, target_ranges

    t_var = system.target["var"].to_numpy()
    primary = system.var["sensitive"].to_numpy() | ~system.var["publishable"].to_numpy()
    passed: set[bytes] = set()   # blocks (as their variables) already shown wide enough
    is_outcome = system.var["key"].str.starts_with("o|").to_numpy()
    coarse = np.zeros(system.n, bool)   # withheld by coarsening: never shown again
    level: dict[int, int] = {}          # how far each still-narrow figure's coarsening has gone
    for rounds in range(1, MAX_ROUNDS + 1):
        r = target_ranges(system, hidden, rules.protection, skip=passed)
        signatures = block_signatures(r.block)
        narrow_t = r.audited & ~np.isnan(r.lo) & (r.width < rules.protection - 1e-9)
        bad_blocks = set(r.block[t_var[narrow_t]].tolist())
        passed |= {sig for b, sig in signatures.items() if b not in bad_blocks}
        if _debug:
            print(f"repair round {rounds}: withheld {int(hidden.sum())}, {r.solves} solves, {int(narrow_t.sum())} narrow", flush=True)
        if not narrow_t.any():
            return hidden, rounds
        need = np.unique(t_var[narrow_t])
        hidden = hidden.copy()
        if rounds > COARSEN_AFTER:
            # finer choices have had their rounds: publish less where a figure is still narrow
            hidden, coarse = _coarsen(system, hidden, lockable, need, level, coarse, coarsened)
            hidden = expand(hidden)
            continue
        # a complement the published figures pin down protects little and is itself nearly
        # public: it is shown (an outcome complement at no rectangle's corner, or any complement
        # fixed exactly), and what it protected gets another complement or rectangle next round
        pinned = narrow_t & ((r.width < 0.5) | is_outcome[t_var])
        fixed = np.unique(t_var[pinned])
        fixed = fixed[~primary[fixed] & lockable[fixed] & ~certified[fixed] & ~coarse[fixed]]
        hidden[fixed] = False
        # first a rectangle of its own for each figure still too narrow (more candidates than
        # the first pass tries); a figure no rectangle can protect takes a neighbour instead
        need = need[hidden[need]]
        mask = np.zeros(system.n, bool)
        mask[need] = True
        hidden = expand(_rectangles(system, hidden, lockable, rules, rank, only=mask, tries=REPAIR_TRIES, certified=certified))
        hidden = expand(_transition_rectangles(system, hidden, lockable, rules, rank, only=mask, tries=REPAIR_TRIES))
        hidden = expand(_stage_switches(system, hidden, lockable, rules, rank, mask, certified, tries=REPAIR_TRIES))
        need = need[~certified[need]]  # those no rectangle could protect
        # otherwise the published figures whose relations stop it moving: the binding rows of
        # the programmes that bound it (their dual values), best-ranked first
        still = np.flatnonzero(narrow_t & np.isin(t_var, need))
        cols = _binding_published(system, hidden, still, lockable)
        if len(cols) == 0 and len(fixed) == 0:   # stalled: coarsen now
            hidden, coarse = _coarsen(system, hidden, lockable, need, level, coarse, coarsened)
        hidden[cols] = True
        hidden = expand(hidden)
    return hidden, MAX_ROUNDS


def _coarsen(system: System, hidden: np.ndarray, lockable: np.ndarray, need: np.ndarray, level: dict[int, int],
             coarse: np.ndarray, coarsened: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The last resort (docs/methodology.md#publishing-less): a figure no choice of complements
    protects takes down the table it belongs to, one step at a time. Outcomes: (1) that breakdown
    of its pupil model in that year (every geography, subgroup and measure); (2) its measures in
    that year, every breakdown and geography: a numerator's family (the numerators of the measures
    bound to it), or a denominator's population and every measure over it; (3) the
    pupil model in that year. A Total starts at (2). A transition takes its stage pair for that
    cohort; any other count its table for that year. Only figures that may be withheld are taken."""
    v = system.var
    key = v["key"]
    parts = key.str.splitn("|", 7).struct.unnest()
    is_o = key.str.starts_with("o|")
    pop = v["pop"].fill_null("")
    population = v["population"].fill_null("")
    tp_la = pl.concat_str([parts["field_1"], parts["field_2"]], separator="|")
    # (2): a numerator's measure family, with its population; a denominator's population
    families = _bound_families()
    for whole_m, parts_m in PARTS:
        for p_ in parts_m:
            families.setdefault(f"num:{p_}", families.get(f"num:{whole_m}", f"num:{whole_m}"))
    measure = parts["field_6"].fill_null("")
    fam = pl.when(measure.str.starts_with("num:")).then(measure.replace(families)).otherwise(pl.lit(None, pl.String))
    # other tables: a transition's cohort and pair of stages; any other count's table and year
    other = pl.when(key.str.starts_with("t|")).then(
        pl.concat_str([parts["field_0"], parts["field_1"], parts["field_2"], parts["field_4"]], separator="|")
    ).otherwise(pl.concat_str([parts["field_0"], parts["field_1"], parts["field_2"]], separator="|"))
    frame = pl.select(
        t1=pl.when(is_o).then(pl.concat_str([tp_la, pop, parts["field_4"]], separator="|")).otherwise(other),
        fam=pl.when(is_o).then(pl.concat_str([tp_la, fam], separator="|")),
        popn=pl.when(is_o).then(pl.concat_str([tp_la, population], separator="|")),
        t3=pl.when(is_o).then(pl.concat_str([tp_la, pop], separator="|")).otherwise(other),
        total=is_o & (parts["field_4"] == TOTAL), is_num=measure.str.starts_with("num:"))
    t1, fm, pn, t3 = (frame[c].to_numpy() for c in ("t1", "fam", "popn", "t3"))
    total, is_num = frame["total"].to_numpy(), frame["is_num"].to_numpy()
    hidden, coarse = hidden.copy(), coarse.copy()
    take1, take_fam, take_pop, take3 = set(), set(), set(), set()
    for i in need.tolist():
        lv = level.get(i, 0) + 1
        if lv == 1 and total[i]:
            lv = 2  # a Total cell has no breakdown table of its own
        level[i] = lv
        if lv == 1 or t3[i] == t1[i]:   # (other tables have one level)
            take1.add(t1[i])
        elif lv == 2:
            if is_num[i]:
                take_fam.add(fm[i])
            else:
                take_pop.add(pn[i])
        else:
            take3.add(t3[i])
    # a family: its numerators (the denominators stay, shared with other measures); a population:
    # its denominators and every measure over it
    sel = (np.isin(t1, list(take1)) | np.isin(fm, list(take_fam)) | np.isin(pn, list(take_pop))
           | np.isin(t3, list(take3))) & lockable
    coarsened.extend(sorted(take1 | {f"{f} (family)" for f in take_fam} | {f"{p_} (population)" for p_ in take_pop}
                            | take3))
    if _debug:
        print(f"  coarsen: {len(take1)} breakdown tables, {len(take_fam)} families, {len(take_pop)} populations, "
              f"{len(take3)} whole tables, {int((sel & ~hidden).sum())} more withheld")
    hidden[sel] = True
    coarse[sel] = True
    return hidden, coarse


def _binding_published(system: System, hidden: np.ndarray, targets: np.ndarray, lockable: np.ndarray,
                       per_target: int = 4) -> np.ndarray:
    """For each target, the published figures (that may be withheld) in the relations binding at
    its smallest or largest value, up to ``per_target`` of them, by the order of their keys."""
    from scipy.optimize import linprog

    from publish.ranges import _cut

    if not len(targets):
        return np.zeros(0, np.int64)
    cut = _cut(system, hidden, None)
    value = system.var["value"].to_numpy()
    lo_b, hi_b = system.var["lo"].to_numpy(), system.var["hi"].to_numpy()
    eq_rows = np.unique(system.eq.tocoo().row[hidden[system.eq.tocoo().col]])
    le_rows = np.unique(system.le.tocoo().row[hidden[system.le.tocoo().col]])
    eq_pub = system.eq.multiply((~hidden & lockable)[None, :]).tocsr()
    le_pub = system.le.multiply((~hidden & lockable)[None, :]).tocsr()
    t_var = system.target["var"].to_numpy()
    found: list[int] = []
    for t in targets[:200]:
        vs = np.flatnonzero(cut.block == cut.block[t_var[t]])
        E, L = cut.eq[:, vs].tocsr(), cut.le[:, vs].tocsr()
        er, lr = np.flatnonzero(np.diff(E.indptr) > 0), np.flatnonzero(np.diff(L.indptr) > 0)
        c = system.target_expr[t][:, vs].toarray().ravel()
        bounds = list(zip(np.maximum(lo_b[vs], -1e9), np.minimum(hi_b[vs], 1e9)))
        rows_e: set[int] = set()
        rows_l: set[int] = set()
        for sign in (1.0, -1.0):
            res = linprog(sign * c, A_eq=E[er] if len(er) else None, b_eq=cut.eq_rhs[er] if len(er) else None,
                          A_ub=L[lr] if len(lr) else None, b_ub=cut.le_rhs[lr] if len(lr) else None, bounds=bounds,
                          method="highs")
            if res.status != 0:
                continue
            if len(er):
                rows_e |= set(eq_rows[er[np.abs(res.eqlin.marginals) > 1e-9]].tolist())
            if len(lr):
                rows_l |= set(le_rows[lr[np.abs(res.ineqlin.marginals) > 1e-9]].tolist())
        cand = np.unique(np.concatenate([eq_pub[sorted(rows_e)].indices if rows_e else np.zeros(0, np.int64),
                                         le_pub[sorted(rows_l)].indices if rows_l else np.zeros(0, np.int64)]))
        cand = cand[np.argsort(value[cand] * 0 + np.arange(len(cand)))][:per_target]
        found.extend(cand.tolist())
    return np.unique(np.array(found, np.int64))


def _neighbours(system: System, equalities_only: bool = False):
    """Variables sharing a relation (an equality; or any relation) with each variable, as a sparse matrix."""
    from scipy import sparse

    inc = (system.eq if equalities_only else sparse.vstack([system.eq, system.le])).tocsr().astype(bool).astype(np.int32)
    link = (inc.T @ inc).tocsr()
    link.setdiag(0)
    link.eliminate_zeros()
    return link


def _units(system: System):
    """A function withholding whole suppression units (a transition row's six counts go together)."""
    unit = system.var["unit"].to_numpy()
    order = np.argsort(unit, kind="stable")
    bounds = np.searchsorted(unit[order], np.arange(unit.max() + 2)) if len(unit) else np.zeros(1, int)
    multi = np.bincount(unit) > 1 if len(unit) else np.zeros(0, bool)

    def expand(hidden: np.ndarray) -> np.ndarray:
        units = np.unique(unit[hidden])
        units = units[multi[units]]
        if len(units):
            members = np.concatenate([order[bounds[u]:bounds[u + 1]] for u in units])
            hidden = hidden.copy()
            hidden[members] = True
        return hidden
    return expand


def _preference(system: System, rules: Rules, hidden: np.ndarray) -> np.ndarray:
    """Rank of each variable as a complement (lower is better): one with room to move by the
    protection level either way, given its bounds and what is published beside it (a complement
    pinned at 0 protects nothing and only spreads suppression); then figures below the headline
    ones (a learning community's subgroup before its Total, before the authority; any subgroup
    before the disadvantaged and other pupils whose gap each community reads); then the smallest;
    then the key."""
    v = system.var
    down, up = _slack(system, hidden)
    room = np.minimum(down, up) >= rules.protection
    parts = v["key"].str.split("|")
    # a Total joins every breakdown of its geography into one block: the last resort
    total = parts.list.get(4, null_on_oob=True) == TOTAL
    headline = parts.list.get(4, null_on_oob=True) == DISADVANTAGE_BREAKDOWN
    order = pl.DataFrame({"no_room": ~room, "total": total.fill_null(False), "headline": headline.fill_null(False),
                          "priority": v["priority"], "size": v["size"], "key": v["key"]}).with_row_index("id")
    ranked = order.sort(["no_room", "total", "priority", "headline", "size", "key"])["id"].to_numpy()
    rank = np.empty(system.n, np.int64)
    rank[ranked] = np.arange(system.n)
    return rank


def _slack(system: System, hidden: np.ndarray, joint: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """How far each variable can fall and rise on its own (its bounds, and a count's room under
    a published population). With ``joint`` (publish groups moving together, see _rectangles): the
    room every inequality leaves it with its other figures held at their true values, except an
    inequality among one group only, which the group's joint move keeps (a withheld count under a
    withheld population can rise only by the room the true population leaves; counting on the
    population to rise too only spreads the problem)."""
    v = system.var
    value, lo, hi = v["value"].to_numpy(), v["lo"].to_numpy(), v["hi"].to_numpy()
    down = np.minimum(value - lo, BIG)
    up = np.minimum(hi - value, BIG)
    if joint is not None:
        coo = system.le.tocoo()
        h = hidden[coo.col]
        r, c, a = coo.row[h], coo.col[h], coo.data[h]
        g = joint[c]
        nrow = system.le.shape[0]
        gmin = np.full(nrow, np.iinfo(np.int64).max)
        gmax = np.full(nrow, -1)
        np.minimum.at(gmin, r, g)
        np.maximum.at(gmax, r, g)
        mixed = gmin[r] != gmax[r]
        slack = np.maximum(system.le_rhs - system.le @ value, 0)
        room = slack[r] / np.abs(a)
        pos = mixed & (a > 0)
        neg = mixed & (a < 0)
        np.minimum.at(up, c[pos], room[pos])
        np.minimum.at(down, c[neg], room[neg])
    # single-variable rows of the inequalities once published figures are fixed: x <= bound
    le = system.le
    pub = ~hidden
    rhs = system.le_rhs - le[:, pub] @ value[pub]
    le_h = le.multiply(hidden[None, :]).tocsr()
    le_h.eliminate_zeros()
    single = np.flatnonzero(np.diff(le_h.indptr) == 1)
    cols = le_h.indices[le_h.indptr[single]]
    coef = le_h.data[le_h.indptr[single]]
    room = rhs[single] / coef - value[cols]  # coef > 0: x <= rhs/coef; coef < 0: x >= rhs/coef
    pos = coef > 0
    np.minimum.at(up, cols[pos], np.maximum(room[pos], 0))
    np.minimum.at(down, cols[~pos], np.maximum(-room[~pos], 0))
    return down, up


BIG = 1e12


def _capacity_pass(system: System, hidden: np.ndarray, lockable: np.ndarray, rules: Rules,
                   rank: np.ndarray | None = None, expand=lambda h: h) -> np.ndarray:
    """Within each additive relation, the other withheld figures must be able to absorb a move of
    the protection level either way; where they cannot (a single withheld figure, or partners
    with no room), the best published figure of that relation is withheld too. Cheap, and a
    necessary condition only: the audit rounds after it decide."""
    rank = _preference(system, rules, hidden) if rank is None else rank
    eq = system.eq.tocsr()
    # outcome figures are protected by rectangles; this pass is for the other tables
    is_outcome = system.var["key"].str.starts_with("o|").to_numpy()
    audited = (system.var["publishable"] | system.var["sensitive"]).to_numpy() & ~is_outcome
    for _ in range(100):
        down, up = _slack(system, hidden)
        coo = eq.tocoo()
        h = hidden[coo.col]
        r, c, a = coo.row[h], coo.col[h], coo.data[h]
        n = eq.shape[0]
        pos = a > 0
        sums = {k: np.bincount(r[m], weights=w[m], minlength=n) for k, m, w in
                (("Pd", pos, down[c]), ("Pu", pos, up[c]), ("Nd", ~pos, down[c]), ("Nu", ~pos, up[c]))}
        cap_up = np.where(pos, sums["Pd"][r] - down[c] + sums["Nu"][r], sums["Nd"][r] - down[c] + sums["Pu"][r])
        cap_down = np.where(pos, sums["Pu"][r] - up[c] + sums["Nd"][r], sums["Nu"][r] - up[c] + sums["Pd"][r])
        width = np.minimum(up[c], cap_up) + np.minimum(down[c], cap_down)
        short = np.unique(r[(width < rules.protection - 1e-9) & audited[c]])
        if len(short) == 0:
            break
        sub = eq[short].tocoo()
        cand = ~hidden[sub.col] & lockable[sub.col] & ~is_outcome[sub.col]
        rows, cols = sub.row[cand], sub.col[cand]
        if len(rows) == 0:
            break
        best = pl.DataFrame({"row": rows, "col": cols, "rank": rank[cols]}).sort("rank").group_by("row").first()
        hidden = hidden.copy()
        hidden[best["col"].to_numpy()] = True
        hidden = expand(hidden)
    return hidden


def table_flags(marts: dict[str, pl.DataFrame], system: System, hidden: np.ndarray, rules: Rules) -> dict[str, dict[str, pl.Series]]:
    """For each published mart, the flags its figure columns are withheld with (one per row): a
    figure is withheld exactly when the variable it shows is (docs/methodology.md#suppression-of-derived-tables),
    so a figure withheld in one row is never shown in another."""
    def var_hidden(ids: np.ndarray) -> np.ndarray:
        return np.where(ids >= 0, hidden[np.maximum(ids, 0)], True)

    def s(a) -> pl.Series:
        return pl.Series(np.asarray(a, bool))

    flags: dict[str, dict[str, pl.Series]] = {}
    o_rows = system.rows["learning_community_outcomes"]
    den_h, pup_h = (var_hidden(o_rows[r]) for r in ("denominator", "pupils"))
    # a numerator with no variable is fixed by definition (a structural 0): known to all, shown
    num_h = np.where(o_rows["numerator"] >= 0, hidden[np.maximum(o_rows["numerator"], 0)], False)
    flags["learning_community_outcomes"] = {"numerator": s(num_h), "denominator": s(den_h), "pupils": s(pup_h),
                                            "cell": s(num_h | den_h | pup_h)}
    outcomes = marts["learning_community_outcomes"]
    cellh = outcomes.select(*GEO, "subgroup").with_columns(_n=s(num_h), _d=s(den_h), _p=s(pup_h))

    # gaps re-publish the two Disadvantage cells; rolling pools are their own variables
    gaps = marts["learning_community_disadvantage_gaps"].with_row_index("_row")
    for prefix, subgroup in (("dis", DISADVANTAGED), ("oth", NOT_DISADVANTAGED)):
        part = (cellh.filter(pl.col("subgroup") == subgroup).drop("subgroup")
                .rename({"_n": f"{prefix}_num", "_d": f"{prefix}_den", "_p": f"{prefix}_pup"}))
        gaps = gaps.join(part, on=GEO, how="left", nulls_equal=True)
    gaps = gaps.sort("_row").with_columns([pl.col(c).fill_null(True) for c in
                                           ("dis_num", "dis_den", "dis_pup", "oth_num", "oth_den", "oth_pup")])
    g = {c: gaps[c] for c in ("dis_num", "dis_den", "dis_pup", "oth_num", "oth_den", "oth_pup")}
    # a group's percentage is shown when its two counts are; the gap needs all four
    g["dis_value"] = gaps.select(pl.any_horizontal("dis_num", "dis_den")).to_series()
    g["oth_value"] = gaps.select(pl.any_horizontal("oth_num", "oth_den")).to_series()
    g["cell"] = gaps.select(pl.any_horizontal("dis_num", "dis_den", "oth_num", "oth_den")).to_series()
    # rolling pools: each pooled figure only when that figure of every year it pools is shown (a
    # pool beside some of its years would give the others back; one beside none would be a new sum
    # of withheld counts), so a pool adds nothing a reader could not add up from published years
    window = ["geographic_level", "old_la_code", "learning_community_code", "measure"]
    w = int(gaps["rolling_years"].max() or 1) if gaps.height else 1
    ordered = gaps.select("_row", *window, "time_period", *(f"{k}_{p}" for k in ("dis", "oth") for p in ("num", "den", "pup"))
                          ).sort([*window, "time_period"], nulls_last=True)
    ordered = ordered.with_columns([pl.col(f"{k}_{p}").cast(pl.Int8).rolling_max(w, min_samples=1).over(window)
                                    .cast(pl.Boolean).alias(f"r_{k}_{p}") for k in ("dis", "oth") for p in ("num", "den", "pup")]
                                   ).sort("_row")
    pools = {f"r_{k}_{p}": ordered[f"r_{k}_{p}"] for k in ("dis", "oth") for p in ("num", "den", "pup")}
    for grp in ("dis", "oth"):
        pools[f"r_{grp}_value"] = pools[f"r_{grp}_num"] | pools[f"r_{grp}_den"]
    pools["rolling"] = pools["r_dis_value"] | pools["r_oth_value"]
    g.update(pools)
    flags["learning_community_disadvantage_gaps"] = g

    # trends: the end years' cells as published; the trend itself only when every year of its window is
    window = ["measure", "geographic_level", "old_la_code", "learning_community_code"]
    per_year = gaps.select(*window, "time_period", "dis_num", "dis_den", "oth_num", "oth_den", _h=g["cell"])
    trends = marts["learning_community_gap_trends"].with_row_index("_row")
    spans = trends.select("_row", *window, "first_time_period", "last_time_period").join(
        per_year.select(*window, "time_period", "_h"), on=window, how="left", nulls_equal=True).filter(
        pl.col("time_period").is_between(pl.col("first_time_period"), pl.col("last_time_period")))
    t_hidden = spans.group_by("_row").agg(pl.col("_h").any())
    t = trends.join(t_hidden, on="_row", how="left")
    for end in ("first", "last"):
        t = t.join(per_year.drop("_h").rename({"time_period": f"{end}_time_period", "dis_num": f"{end}_dn",
                                               "dis_den": f"{end}_dd", "oth_num": f"{end}_on", "oth_den": f"{end}_od"}),
                   on=[*window, f"{end}_time_period"], how="left", nulls_equal=True)
    t = t.sort("_row").fill_null(True)
    flags["learning_community_gap_trends"] = {"cell": t["_h"], **{f"{e}_{x}": t[f"{e}_{x}"] for e in ("first", "last")
                                                                   for x in ("dn", "dd", "on", "od")}}

    # cohort stages re-publish outcome cells of the stage's headline measure
    stages = marts["learning_community_cohort_stages"].with_row_index("_row")
    head = pl.DataFrame([{"stage": st, "measure": m, "_yg": y} for st, (m, y) in STAGE_HEADLINES.items()])
    om = outcomes.select("academic_year", "geographic_level", "old_la_code", "learning_community_code", "measure", "breakdown",
                         "subgroup", pl.col("numerator").cast(pl.Float64).alias("_n"),
                         pl.col("denominator").cast(pl.Float64).alias("_d")).with_columns(
        _num_h=s(num_h), _den_h=s(den_h)).filter(pl.col("breakdown").is_in([TOTAL, DISADVANTAGE_BREAKDOWN]))
    st = (stages.join(head, on="stage", how="left").with_columns(academic_year=pl.col("reception_year") + pl.col("_yg"))
          .join(om, on=["academic_year", "geographic_level", "old_la_code", "learning_community_code", "measure", "subgroup"],
                how="left", nulls_equal=True).sort("_row"))
    same = ((st["_n"] == st["numerator"].cast(pl.Float64)) & (st["_d"] == st["denominator"].cast(pl.Float64))).fill_null(False)
    # a stage cell that is not the outcome cell it should be is withheld; a stage with counts of its
    # own (age 17) by its own variables
    num_f = (st["_num_h"].fill_null(True) | ~same).to_numpy().copy()
    den_f = (st["_den_h"].fill_null(True) | ~same).to_numpy().copy()
    if "stages" in system.rows:
        at = np.flatnonzero(own_stage_rows(stages).to_numpy())
        num_f[at] = var_hidden(system.rows["stages"]["numerator"])
        den_f[at] = var_hidden(system.rows["stages"]["denominator"])
    flags["learning_community_cohort_stages"] = {"numerator": s(num_f), "denominator": s(den_f), "cell": s(num_f | den_f)}

    tr = system.rows["learning_community_cohort_transitions"]
    flags["learning_community_cohort_transitions"] = {"cell": s(var_hidden(tr["pupils_tracked"]))}

    gi = system.rows["gap_index"]
    flags["learning_community_gap_index"] = {"cell": s(var_hidden(gi["disadvantaged_pupils"]) | var_hidden(gi["other_pupils"]))}
    if "data_quality" in system.rows:
        dq = system.rows["data_quality"]
        p, c = var_hidden(dq["pupils"]), var_hidden(dq["cohort_pupils"])
        flags["learning_community_data_quality"] = {"pupils": s(p), "cohort_pupils": s(c)}
    return flags


def withheld_cells(marts: dict[str, pl.DataFrame], rules: Rules) -> dict[str, dict[str, pl.Series]]:
    """Flags per published mart."""
    return decide(marts, rules).flags


def _rectangles(system: System, hidden: np.ndarray, lockable: np.ndarray, rules: Rules, rank: np.ndarray,
                only: np.ndarray | None = None, tries: int | None = None,
                certified: np.ndarray | None = None) -> np.ndarray:
    """Secondary suppression in the outcome tables as statistical offices do it for two-way tables
    with margins: each withheld cell is protected by a rectangle of withheld cells - two
    geographies (learning communities, or one and the authority) by two subgroups of one breakdown
    (or one and the Total) - along which the four can move together without changing any published
    sum. Measures of one population that bound one another (RWM never above reading), withheld in
    the same cell, share one rectangle so that they can move together: rectangles chosen measure
    by measure can each be blocked by the others. A
    rectangle is good when it lets every such measure move by the protection level given each
    figure's room; the cheapest good one is taken, cells already withheld costing nothing, so
    rectangles share cells. Cells are taken in key order, so the same data give the same choice.
    A table with one geography (a breakdown published for the authority only) moves two subgroups
    of one row instead. ``only``: protect just these variables (the repair rounds), trying up to
    ``tries`` candidates each."""
    v = system.var
    is_o = v["key"].str.starts_with("o|").to_numpy()
    ids = np.flatnonzero(is_o)
    if not len(ids):
        return hidden
    parts = v["key"].filter(pl.Series(is_o)).str.splitn("|", 7).struct.unnest()
    cells = pl.DataFrame({"id": ids, "tp": parts["field_1"], "la": parts["field_2"], "geo": parts["field_3"],
                          "breakdown": parts["field_4"], "subgroup": parts["field_5"], "measure": parts["field_6"],
                          "pop": v["pop"].filter(pl.Series(is_o))})
    totals = cells.filter(pl.col("breakdown") == TOTAL)
    subs = cells.filter(pl.col("breakdown") != TOTAL)
    # each breakdown's table for one pupil model: its subgroups and the Total column, every
    # geography, every measure and population of the model
    tables = subs.select("tp", "la", "pop", "breakdown").unique()
    frame = pl.concat([subs, totals.drop("breakdown").join(tables, on=["tp", "la", "pop"]).select(subs.columns)])
    frame = frame.with_columns(table=pl.struct("tp", "la", "pop", "breakdown").hash())
    down, up = _slack(system, hidden, _joint_groups(system))
    down2, up2 = _slack(system, hidden, _joint_groups(system, whole_cell=True))
    mover = _Mover(system)
    cost = rank.astype(np.float64) + 1.0
    hidden = hidden.copy()
    free = hidden | lockable
    p = rules.protection
    keys = v["key"].to_numpy()
    tables_of = frame.partition_by("table", as_dict=False, maintain_order=False)
    tables_of.sort(key=lambda t: keys[t["id"].min()])
    bound_family = _bound_families()
    for t in tables_of:
        # the geographies the breakdown is published for (the Total column reaches every one)
        t = t.filter(pl.col("geo").is_in(t.filter(pl.col("subgroup") != TOTAL)["geo"].unique().implode()))
        geos = sorted(t["geo"].unique().to_list(), key=lambda g: (g == "LA", g))
        cols = sorted(t["subgroup"].unique().to_list(), key=lambda s: (s == TOTAL, s))
        meas = sorted(t["measure"].unique().to_list())
        if len(cols) < 2:
            continue
        fam = np.array([_family_of(m, bound_family) for m in meas])
        is_den = np.array([m.startswith("den:") for m in meas])
        gi = {g: i for i, g in enumerate(geos)}
        si = {s: i for i, s in enumerate(cols)}
        mi = {m: i for i, m in enumerate(meas)}
        grid = np.full((len(geos), len(cols), len(meas)), -1)
        grid[[gi[g] for g in t["geo"]], [si[s] for s in t["subgroup"]], [mi[m] for m in t["measure"]]] = t["id"].to_numpy()
        s_row = np.where(np.array([g == "LA" for g in geos]), 1, -1)
        s_col = np.where(np.array([s == TOTAL for s in cols]), 1, -1)
        exists = grid >= 0
        g0 = np.maximum(grid, 0)
        protected = np.zeros(grid.shape, bool)
        todo = np.argwhere(exists & hidden[g0] & (True if only is None else only[g0]))
        order = sorted(range(len(todo)), key=lambda i: keys[grid[tuple(todo[i])]])
        for i in order:
            r0, c0, k0 = todo[i]
            if protected[r0, c0, k0]:
                continue
            joint = np.flatnonzero(exists[r0, c0] & hidden[g0[r0, c0]] & ~protected[r0, c0] & (fam == fam[k0]))
            choice = _best_rectangle(grid, g0, exists, r0, c0, joint, s_row, s_col, up, down, free, hidden, cost, p, mover, tries)
            if choice is None:
                # a count under a small withheld population cannot move far without it: the
                # population and all its measures withheld in the cell move together
                whole = np.flatnonzero(exists[r0, c0] & hidden[g0[r0, c0]])
                choice = _best_rectangle(grid, g0, exists, r0, c0, whole, s_row, s_col, up2, down2, free, hidden, cost, p, mover, tries)
                if choice is not None:
                    _take(grid, hidden, protected, r0, c0, *choice, whole, certified)
                    continue
            if choice is None:  # no rectangle suits them all: each measure on its own, then each
                # with its population (a pupil meeting just this measure joins or leaves the cell)
                dens = np.flatnonzero(exists[r0, c0] & hidden[g0[r0, c0]] & is_den)
                for k in joint:
                    one = _best_rectangle(grid, g0, exists, r0, c0, np.array([k]), s_row, s_col, up, down, free, hidden,
                                          cost, p, mover, tries)
                    if one is not None:
                        _take(grid, hidden, protected, r0, c0, *one, np.array([k]), certified)
                        continue
                    if is_den[k] or not len(dens):
                        continue
                    with_pop = np.concatenate([[k], dens])
                    one = _best_rectangle(grid, g0, exists, r0, c0, with_pop, s_row, s_col, up2, down2, free, hidden, cost, p, mover, tries)
                    if one is not None:
                        _take(grid, hidden, protected, r0, c0, *one, with_pop, certified)
                continue
            _take(grid, hidden, protected, r0, c0, *choice, joint, certified)
    return hidden


# The kinds of pupil a transition row counts, as changes to its six counts (publish/relations.py
# TRANSITION_COUNTS: tracked, below before, caught up, at expected before, fell behind, stayed):
# between them they move every count and every complement (still below, kept up, left).
PUPIL_KINDS = (np.array([1, 1, 1, 0, 0, 1.0]),   # below before, caught up, stayed
               np.array([1, 1, 0, 0, 0, 0.0]),   # below before, still below, left
               np.array([1, 0, 0, 1, 0, 1.0]),   # at expected, kept up, stayed
               np.array([1, 0, 0, 1, 1, 0.0]))   # at expected, fell behind, left


def _transition_rectangles(system: System, hidden: np.ndarray, lockable: np.ndarray, rules: Rules, rank: np.ndarray,
                           only: np.ndarray | None = None, tries: int | None = None) -> np.ndarray:
    """Rectangles for the cohort transitions, as for the outcomes: two geographies by two groups
    (or one and the Total), each corner a whole row. What moves along a rectangle is a kind of
    pupil (one who was below the expected standard, caught up and stayed, say), so each row's
    counts stay consistent; a withheld row needs a rectangle for each kind, checked exactly
    against the whole system (publish/suppression.py _Mover)."""
    from publish.relations import TRANSITION_COUNTS

    v = system.var
    is_t = v["key"].str.starts_with("t|").to_numpy()
    ids = np.flatnonzero(is_t)
    if not len(ids):
        return hidden
    parts = v["key"].filter(pl.Series(is_t)).str.splitn("|", 7).struct.unnest()
    cells = pl.DataFrame({"id": ids, "table": parts["field_1"] + "|" + parts["field_2"] + "|" + parts["field_4"],
                          "geo": parts["field_3"], "subgroup": parts["field_5"], "count": parts["field_6"]})
    mover = _Mover(system)
    cost = rank.astype(np.float64) + 1.0
    hidden = hidden.copy()
    free = hidden | lockable
    p = rules.protection
    keys = v["key"].to_numpy()
    tables_of = cells.partition_by("table", as_dict=False, maintain_order=False)
    tables_of.sort(key=lambda t: keys[t["id"].min()])
    ci = {c: i for i, c in enumerate(TRANSITION_COUNTS)}
    for t in tables_of:
        geos = sorted(t["geo"].unique().to_list(), key=lambda g: (g == "LA", g))
        cols = sorted(t["subgroup"].unique().to_list(), key=lambda s_: (s_ == TOTAL, s_))
        if len(geos) < 2 or len(cols) < 2:
            continue
        gi = {g: i for i, g in enumerate(geos)}
        si = {s_: i for i, s_ in enumerate(cols)}
        grid = np.full((len(geos), len(cols), len(ci)), -1)
        grid[[gi[g] for g in t["geo"]], [si[s_] for s_ in t["subgroup"]], [ci[c] for c in t["count"]]] = t["id"].to_numpy()
        whole_row = (grid >= 0).all(axis=2)
        sr_all = np.where(np.array([g == "LA" for g in geos]), 1, -1)
        sc_all = np.where(np.array([s_ == TOTAL for s_ in cols]), 1, -1)
        g0 = np.maximum(grid, 0)
        row_hidden = whole_row & hidden[g0].any(axis=2)
        row_free = whole_row & free[g0].all(axis=2)
        price_cell = np.where(hidden[g0[:, :, 0]], 0.0, cost[g0[:, :, 0]])
        todo = [tuple(rc) for rc in np.argwhere(row_hidden) if only is None or only[g0[tuple(rc)]].any()]
        todo.sort(key=lambda rc: keys[grid[rc][0]])
        for r0, c0 in todo:
            sr = (sr_all != sr_all[r0]).astype(int) * 2 - 1
            sc = (sc_all != sc_all[c0]).astype(int) * 2 - 1
            price = price_cell[r0][None, :] + price_cell[:, c0][:, None] + price_cell
            ok = row_free[r0][None, :] & row_free[:, c0][:, None] & row_free
            ok[r0, :] = False
            ok[:, c0] = False
            price = np.where(ok, price, np.inf)
            order = np.argsort(price, axis=None, kind="stable")[:tries or TRIES]
            for kind in PUPIL_KINDS:
                nz = np.flatnonzero(kind)
                for f in order:
                    r1, c1 = np.unravel_index(int(f), price.shape)
                    if not np.isfinite(price[r1, c1]):
                        break
                    corners = ((r0, c0, 1.0), (r0, c1, sc[c1]), (r1, c0, sr[r1]), (r1, c1, sr[r1] * sc[c1]))
                    move_ids = np.concatenate([g0[r, c, nz] for r, c, _ in corners])
                    signs = np.concatenate([np.full(len(nz), sg) for _, _, sg in corners])
                    plus, minus = mover.room(move_ids, signs)
                    if plus + minus >= p:
                        for r, c, _ in corners:
                            hidden[g0[r, c]] = True
                        price_cell[[r0, r0, r1, r1], [c0, c1, c0, c1]] = 0.0
                        break
    return hidden


def _stage_switches(system: System, hidden: np.ndarray, lockable: np.ndarray, rules: Rules, rank: np.ndarray,
                    only: np.ndarray, certified: np.ndarray, tries: int | None = None) -> np.ndarray:
    """A transition row and the earlier stage's outcome cell pin each other (those at the
    expected standard before are among those meeting it; those below are among those not): when
    every pupil is tracked, neither can move alone. What moves both is a pupil switching from
    below the standard to meeting it: the outcome count rises, the row's 'below' falls and its
    'at expected' rises. Such switches along a rectangle of rows (two geographies by two groups),
    checked exactly, protect the outcome cells in ``only``."""

    if system.le_names is None:
        return hidden
    v = system.var
    keys = v["key"].to_numpy()
    kid = {k: i for i, k in enumerate(keys)}
    # transition row -> the earlier stage's outcome count, from the relations that tie them
    link: dict[str, int] = {}
    le = system.le.tocsr()
    for r in np.flatnonzero(np.char.startswith(system.le_names.astype(str), "le:atA|")):
        cols, coefs = le.indices[le.indptr[r]:le.indptr[r + 1]], le.data[le.indptr[r]:le.indptr[r + 1]]
        if (coefs < 0).sum() == 1:
            link[str(system.le_names[r])[len("le:atA|"):]] = int(cols[coefs < 0][0])
    # one earlier-stage cell is tied to a row for every later stage: they all move together
    cells: dict[tuple, tuple[int, list[str]]] = {}
    for rk, num in link.items():
        p_ = rk.split("|")
        frm = p_[4].split(">")[0]
        key = (p_[1], p_[2], frm, p_[3], p_[5])
        cells.setdefault(key, (num, []))[1].append(rk)
    mover = _Mover(system)
    cost = rank.astype(np.float64) + 1.0
    hidden = hidden.copy()
    free = hidden | lockable
    for k0 in sorted(k for k, (num, _) in cells.items() if only[num] and not certified[num] and k[4] != TOTAL):
        yr, la_, frm, g0_, s0 = k0
        best = []
        for (y1, l1, f1, g1, s1) in cells:
            if (y1, l1, f1) != (yr, la_, frm) or g1 == g0_ or s1 == s0 or s1 == TOTAL:
                continue
            corners = [k0, (yr, la_, frm, g0_, s1), (yr, la_, frm, g1, s0), (yr, la_, frm, g1, s1)]
            if not all(c in cells for c in corners):
                continue
            sr = 1.0 if (g1 == "LA") != (g0_ == "LA") else -1.0
            ids, sg = [], []
            for c, sign in zip(corners, (1.0, -1.0, sr, -sr)):
                num, rows = cells[c]
                ids.append(num)
                sg.append(sign)
                for rk in rows:
                    ids += [kid[f"{rk}|below_expected_before"], kid[f"{rk}|at_expected_before"]]
                    sg += [-sign, sign]
            ids, sg = np.array(ids), np.array(sg)
            if not free[ids].all():
                continue
            best.append((float(np.where(hidden[ids], 0, cost[ids]).sum()), corners[3], ids, sg))
        best.sort(key=lambda x: (x[0], x[1]))
        for _, _, ids, sg in best[:tries or TRIES]:
            plus, minus = mover.room(ids, sg)
            if plus + minus >= rules.protection:
                hidden[ids] = True
                nums = [cells[c][0] for c in cells if cells[c][0] in set(ids.tolist())]
                certified[nums] = True
                break
    return hidden


def _bound_families() -> dict[str, str]:
    """Measures that bound one another (publish/relations.py ORDERED, COMBINED), as 'num:<measure>'
    -> one name per connected family."""
    parent: dict[str, str] = {}

    def root(m: str) -> str:
        while parent.setdefault(m, m) != m:
            m = parent[m]
        return m
    pairs = [*ORDERED, *[(w, p) for w, ps in COMBINED for p in ps]]
    for a, c in pairs:
        parent[root(a)] = root(c)
    return {f"num:{m}": f"num:{root(m)}" for m in parent}


def _family_of(measure: str, families: dict[str, str]) -> str:
    """The family a cell's figure moves with: measures bounding one another; the populations of
    one pupil model (one is a subset of another)."""
    if measure.startswith("den:"):
        return measure.split("|")[0]
    return families.get(measure, measure)


def _joint_groups(system: System, whole_cell: bool = False) -> np.ndarray:
    """Per variable, the group it moves with in a rectangle: its cell and family (outcomes; with
    ``whole_cell``, everything of its pupil model in the cell), or itself."""
    keys = system.var["key"]
    families = _bound_families()
    parts = keys.str.splitn("|", 7).struct.unnest()
    is_o = keys.str.starts_with("o|")
    cell = pl.concat_str([parts[f"field_{i}"] for i in range(6)], separator="|")
    fam = parts["field_6"].map_elements(lambda m: _family_of(m, families), return_dtype=pl.String)
    if whole_cell:
        fam = system.var["pop"].fill_null("")
    label = pl.select(pl.when(is_o).then(cell + "|" + fam).otherwise(keys)).to_series()
    return label.rank("dense").cast(pl.Int64).to_numpy()


def _best_rectangle(grid, g0, exists, r0, c0, ks, s_row, s_col, up, down, free, hidden, cost, p, mover, tries=None):
    """The cheapest other corner (r1, c1) whose rectangle lets the measures ``ks`` of cell
    (r0, c0) all move by ``p`` together, or None."""
    G, C = grid.shape[:2]
    sr = (s_row != s_row[r0]).astype(int) * 2 - 1        # per row r1: +1 if it is the margin of r0's sum
    sc = (s_col != s_col[c0]).astype(int) * 2 - 1
    a = g0[r0][:, ks]          # (C, K): same geography, other subgroup
    b = g0[:, c0][:, ks]       # (G, K): other geography, same subgroup
    d = g0[:, :, ks]           # (G, C, K)
    x = g0[r0, c0, ks]         # (K,)

    def moves(ids, sign):
        return np.where(sign > 0, up[ids], down[ids]), np.where(sign > 0, down[ids], up[ids])

    pa, ma = moves(a, sc[:, None])
    pb, mb = moves(b, sr[:, None])
    pd, md = moves(d, (sr[:, None] * sc[None, :])[:, :, None])
    plus = np.minimum.reduce([np.broadcast_to(up[x], (G, C, len(ks))), np.broadcast_to(pa[None], (G, C, len(ks))),
                              np.broadcast_to(pb[:, None], (G, C, len(ks))), pd]).min(axis=2)
    minus = np.minimum.reduce([np.broadcast_to(down[x], (G, C, len(ks))), np.broadcast_to(ma[None], (G, C, len(ks))),
                               np.broadcast_to(mb[:, None], (G, C, len(ks))), md]).min(axis=2)
    ok_a = (exists[r0][:, ks] & free[a]).all(axis=1)                  # (C,)
    ok_b = (exists[:, c0][:, ks] & free[b]).all(axis=1)               # (G,)
    ok_d = (exists[:, :, ks] & free[d]).all(axis=2)                   # (G, C)
    ok = ok_a[None, :] & ok_b[:, None] & ok_d & (plus + minus >= p)
    ok[r0, :] = False
    ok[:, c0] = False
    if G == 1:  # one geography: two subgroups of the row (the "other corner" is the cell beside it)
        ok = ok_a[None, :] & (np.minimum(up[x].min(), pa.min(axis=1)) + np.minimum(down[x].min(), ma.min(axis=1)) >= p)[None, :]
        ok[:, c0] = False
    if not ok.any():
        return None
    price = np.where(hidden[a], 0.0, cost[a]).sum(axis=1)[None, :]
    if G > 1:
        price = price + np.where(hidden[b], 0.0, cost[b]).sum(axis=1)[:, None] + np.where(hidden[d], 0.0, cost[d]).sum(axis=2)
    price = np.where(ok, price, np.inf)
    flat = np.argsort(price, axis=None, kind="stable")  # first of equals: geographies, subgroups in key order
    for f in flat[:tries or TRIES]:
        r1, c1 = np.unravel_index(int(f), price.shape)
        if not np.isfinite(price[r1, c1]):
            break
        if G == 1:
            ids, signs = np.concatenate([x, a[c1]]), np.repeat([1.0, sc[c1]], len(ks))
        else:
            ids = np.concatenate([x, a[c1], b[r1], d[r1, c1]])
            signs = np.repeat([1.0, sc[c1], sr[r1], sr[r1] * sc[c1]], len(ks))
        plus, minus = mover.room(ids, signs)
        if plus + minus >= p:
            return int(r1), int(c1)
    return None


TRIES = 8


class _Mover:
    """Exactly how far one move (a set of variables, each rising or falling by the same step) can
    go in the whole system, everything else held at its true value: zero unless it keeps every
    equality; then the room every inequality and bound leaves, in whole steps."""

    def __init__(self, system: System):
        self.eq = system.eq.tocsc()
        self.le = system.le.tocsc()
        v = system.var
        self.value, self.lo, self.hi = v["value"].to_numpy(), v["lo"].to_numpy(), v["hi"].to_numpy()
        self.slack = np.maximum(system.le_rhs - system.le @ self.value, 0)

    def room(self, ids: np.ndarray, signs: np.ndarray) -> tuple[float, float]:
        if len(ids) != len(np.unique(ids)):
            return 0.0, 0.0
        if self.eq.shape[0] and np.abs(self.eq[:, ids] @ signs).max(initial=0) > 1e-9:
            return 0.0, 0.0
        x, lo, hi = self.value[ids], self.lo[ids], self.hi[ids]
        plus = np.min(np.where(signs > 0, hi - x, x - lo), initial=BIG)
        minus = np.min(np.where(signs > 0, x - lo, hi - x), initial=BIG)
        if self.le.shape[0]:
            ld = self.le[:, ids] @ signs
            nz = np.flatnonzero(np.abs(ld) > 1e-9)
            r = self.slack[nz] / np.abs(ld[nz])
            plus = min(plus, np.min(r[ld[nz] > 0], initial=BIG))
            minus = min(minus, np.min(r[ld[nz] < 0], initial=BIG))
        return math.floor(plus + 1e-9), math.floor(minus + 1e-9)


def _take(grid, hidden, protected, r0, c0, r1, c1, ks, certified=None):
    for r, c in ((r0, c0), (r0, c1), (r1, c0), (r1, c1)):
        hidden[grid[r, c, ks]] = True
        protected[r, c, ks] = True
        if certified is not None:
            certified[grid[r, c, ks]] = True
