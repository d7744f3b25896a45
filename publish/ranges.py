"""How far a reader can pin down each withheld figure: for every target expression whose variables
are all withheld, the smallest and largest values consistent with everything published
(docs/methodology.md#disclosure-audit).

Once the published figures are substituted, the system (publish/relations.py) falls apart into
independent blocks: a withheld variable only meets others through a relation that holds
withheld variables on both sides. Each block is one linear programme, solved with HiGHS (primal
simplex, so that a new objective starts from the last solution):

1. a handful of vertices (the optimum for a few fixed pseudo-random objectives, and the true
   values) are feasible points: a target that already differs by more than the protection level
   across the points seen needs nothing more;
2. every other target gets its exact range: minimise and maximise it (each solution is one more
   feasible point for the rest);
3. a count whose range ends were reached only at fractional points, and whose rounded range is
   within 1 of the protection level, is solved again over whole numbers (mixed-integer);
4. in a report, the narrowest range of each block is made exact too.

Two ways of cutting the system into blocks (``region``):

* the whole system: exact ranges;
* each region alone (for outcomes: one year, population and breakdown; for transitions: one
  cohort and pair of stages), every figure outside it fixed at its true value. That is a smaller
  feasible set, so every range is *at most* as wide as the real one: a target wide enough here
  is wide enough, and only the others need the whole system. Blocks stay small this way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import highspy
import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from publish.relations import System

CERTIFICATE_OBJECTIVES = 12
MAX_CERTIFICATE_OBJECTIVES = 200
INF = highspy.kHighsInf


@dataclass
class Ranges:
    lo: np.ndarray          # per target: the smallest value consistent with the publication (nan: not computed)
    hi: np.ndarray          # the largest
    audited: np.ndarray     # targets whose variables are all withheld
    exact: np.ndarray       # range computed exactly (otherwise: the true range is at least this wide)
    block: np.ndarray       # per variable: its block (-1: published)
    nblocks: int = 0
    solves: int = 0
    largest_block: int = 0

    @property
    def width(self) -> np.ndarray:
        return self.hi - self.lo


def audited_targets(system: System, hidden: np.ndarray) -> np.ndarray:
    expr = system.target_expr
    nnz = np.diff(expr.indptr)
    hid = expr.astype(bool).astype(np.int32) @ hidden.astype(np.int32)
    return (nnz > 0) & (hid == nnz)


@dataclass
class _Cut:
    eq: sparse.csr_matrix
    eq_rhs: np.ndarray
    le: sparse.csr_matrix
    le_rhs: np.ndarray
    block: np.ndarray
    nblocks: int


def _cut(system: System, hidden: np.ndarray, region: np.ndarray | None) -> _Cut:
    """The relations among withheld variables, published values (and, with ``region``, values
    outside each variable's region) moved to the right-hand side; and the blocks they form."""
    value = system.var["value"].to_numpy()
    reg = np.zeros(system.n, np.int64) if region is None else region.astype(np.int64)
    nreg = int(reg.max()) + 1 if len(reg) else 1

    def restrict(m: sparse.csr_matrix, rhs: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray]:
        coo = m.tocoo()
        keep = hidden[coo.col]
        r, c, a = coo.row[keep], coo.col[keep], coo.data[keep]
        pair, inv = np.unique(r * nreg + reg[c], return_inverse=True)
        rows = pair // nreg
        total = m @ value
        inside = np.bincount(inv, weights=a * value[c], minlength=len(pair))
        q = sparse.csr_matrix((a, (inv, c)), shape=(len(pair), system.n))
        return q, rhs[rows] - total[rows] + inside

    eq, eq_rhs = restrict(system.eq, system.eq_rhs)
    le, le_rhs = restrict(system.le, system.le_rhs)
    h = np.flatnonzero(hidden)
    inc = sparse.vstack([eq[:, h], le[:, h]]).tocsr()
    inc.data = np.ones_like(inc.data)
    nv, nr = len(h), inc.shape[0]
    graph = sparse.bmat([[None, inc.T], [inc, None]], format="csr") if nr else sparse.csr_matrix((nv, nv))
    n, labels = connected_components(graph, directed=False)
    block = np.full(system.n, -1)
    block[h] = labels[:nv]
    return _Cut(eq, eq_rhs, le, le_rhs, block, n)


def blocks(system: System, hidden: np.ndarray, region: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    cut = _cut(system, hidden, region)
    return cut.block, cut.nblocks


def block_signatures(block: np.ndarray) -> dict[int, bytes]:
    """Each block's variables, as bytes: a block with the same variables is the same programme
    (any change beside it would have joined it), so its ranges need not be solved again."""
    ids = np.flatnonzero(block >= 0)
    order = ids[np.argsort(block[ids], kind="stable")]
    labels = block[order]
    cuts = np.flatnonzero(np.diff(labels)) + 1
    return {int(labels[a]): np.sort(order[a:b]).astype(np.int64).tobytes()
            for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(order)]) if b > a}


def target_ranges(system: System, hidden: np.ndarray, protection: float, region: np.ndarray | None = None,
                  only_blocks: set[int] | None = None, narrowest: bool = False, cut: _Cut | None = None,
                  skip: set[bytes] | None = None) -> Ranges:
    """Ranges of every audited target, block by block (``region``: see the module docstring).
    ``skip``: blocks (by their signature) already known wide enough; their targets are left unsolved (nan)."""
    value = system.var["value"].to_numpy()
    lo_b = system.var["lo"].to_numpy()
    hi_b = system.var["hi"].to_numpy()
    count = (system.var["kind"] == "count").to_numpy()
    t_count = (system.target["kind"] == "count").to_numpy()
    audited = audited_targets(system, hidden)
    cut = cut or _cut(system, hidden, region)
    block, nblocks = cut.block, cut.nblocks
    nt = system.target_expr.shape[0]
    lo = np.full(nt, np.nan)
    hi = np.full(nt, np.nan)
    exact = np.zeros(nt, bool)

    def row_block(m: sparse.csr_matrix) -> np.ndarray:
        first = np.full(m.shape[0], -1)
        has = np.diff(m.indptr) > 0
        first[has] = block[m.indices[m.indptr[:-1][has]]]
        return first

    texpr = system.target_expr
    t_block = np.full(nt, -1)
    has = np.diff(texpr.indptr) > 0
    t_block[has] = block[texpr.indices[texpr.indptr[:-1][has]]]
    t_block[~audited] = -1

    def grouped(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(labels, kind="stable")
        return order, np.searchsorted(labels[order], np.arange(-1, nblocks + 1))

    order_v, bounds_v = grouped(block)
    order_e, bounds_e = grouped(row_block(cut.eq))
    order_l, bounds_l = grouped(row_block(cut.le))
    order_t, bounds_t = grouped(t_block)
    eq_c, le_c, tx_c = cut.eq.tocsc(), cut.le.tocsc(), texpr.tocsc()

    solves = 0
    largest = 0
    if skip:
        sig = block_signatures(block)
        skipped = {k for k, b in sig.items() if b in skip}
        only_blocks = (set(range(nblocks)) if only_blocks is None else only_blocks) - skipped
    for k in range(nblocks):
        ts = order_t[bounds_t[k + 1]:bounds_t[k + 2]]
        if len(ts) == 0 or (only_blocks is not None and k not in only_blocks):
            continue
        vs = order_v[bounds_v[k + 1]:bounds_v[k + 2]]
        es = order_e[bounds_e[k + 1]:bounds_e[k + 2]]
        ls = order_l[bounds_l[k + 1]:bounds_l[k + 2]]
        largest = max(largest, len(vs))
        res = _solve_block(vs, eq_c[:, vs].tocsr()[es], cut.eq_rhs[es], le_c[:, vs].tocsr()[ls], cut.le_rhs[ls],
                           lo_b[vs], hi_b[vs], value[vs], count[vs], tx_c[:, vs].tocsr()[ts], t_count[ts], protection, narrowest)
        lo[ts], hi[ts], exact[ts], n = res
        solves += n
    return Ranges(lo, hi, audited, exact, block, nblocks, solves, largest)


def audit_ranges(system: System, hidden: np.ndarray, protection: float, region: np.ndarray,
                 narrowest: bool = True) -> Ranges:
    """Ranges good enough to decide every target: each region alone first, then the whole system
    for the targets a region alone does not show wide enough."""
    first = target_ranges(system, hidden, protection, region=region, narrowest=False)
    unsure = first.audited & ~(first.width >= protection + 1)
    if not unsure.any() and not narrowest:
        return first
    cut = _cut(system, hidden, None)
    t_var = system.target["var"].to_numpy()
    need = set(cut.block[t_var[unsure]].tolist())
    if narrowest:  # the narrowest region-alone range's block too, so the narrowest reported is exact
        w = np.where(first.audited, first.width, np.inf)
        if np.isfinite(w).any():
            need.add(int(cut.block[t_var[int(np.argmin(w))]]))
    second = target_ranges(system, hidden, protection, only_blocks=need, narrowest=narrowest, cut=cut)
    done = ~np.isnan(second.lo)
    lo, hi = first.lo.copy(), first.hi.copy()
    # the whole system's ranges are exact (or wider lower bounds): take them where computed
    lo[done], hi[done] = np.minimum(first.lo[done], second.lo[done]), np.maximum(first.hi[done], second.hi[done])
    exact = np.where(done, second.exact, first.exact)
    return Ranges(lo, hi, first.audited, exact, cut.block, cut.nblocks, first.solves + second.solves,
                  max(first.largest_block, second.largest_block))


def _solve_block(vs, eq, eq_rhs, le, le_rhs, lo_b, hi_b, x0, is_count, texpr, t_count, protection, narrowest):
    """Ranges of the targets of one block (see the module docstring)."""
    nv = len(vs)
    nt = texpr.shape[0]
    t0 = texpr @ x0
    if eq.shape[0] == 0 and le.shape[0] == 0 and nv == 1:  # one variable, nothing binding it: its bounds
        c = texpr.toarray()[:, 0]
        lo = np.where(c >= 0, c * lo_b[0], c * hi_b[0])
        hi = np.where(c >= 0, c * hi_b[0], c * lo_b[0])
        return lo, hi, np.ones(nt, bool), 0
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("threads", 1)
    h.setOptionValue("simplex_strategy", 4)  # primal simplex: a new objective keeps the last solution feasible
    lp = highspy.HighsLp()
    lp.num_col_ = nv
    a = sparse.vstack([eq, le]).tocsc()
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = np.zeros(nv)
    # a box around the true values keeps every programme bounded: a point inside it is a point of
    # the real system, and an optimum that touches no side of the box is the real optimum (a range
    # found narrow with the box touched is solved again without it)
    reach = np.maximum(1000.0, 10.0 * np.abs(x0))
    box_lo = np.where(np.isfinite(lo_b), lo_b, x0 - reach)
    box_hi = np.where(np.isfinite(hi_b), hi_b, x0 + reach)
    boxed = ~np.isfinite(lo_b) | ~np.isfinite(hi_b)
    lp.col_lower_ = box_lo
    lp.col_upper_ = box_hi
    lp.row_lower_ = np.concatenate([eq_rhs, np.full(le.shape[0], -INF)])
    lp.row_upper_ = np.concatenate([eq_rhs, le_rhs])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    h.passModel(lp)
    cols = np.arange(nv, dtype=np.int32)
    solves = 0
    seen_lo, seen_hi = t0.copy(), t0.copy()
    wide = protection + 1

    def on_box(x: np.ndarray | None) -> bool:
        return x is not None and bool(np.any(boxed & ((np.abs(x - box_lo) < 1e-7) | (np.abs(x - box_hi) < 1e-7))))

    def optimum(cost: np.ndarray) -> tuple[float, np.ndarray | None]:
        nonlocal solves, seen_lo, seen_hi
        h.changeColsCost(nv, cols, cost)
        h.run()
        solves += 1
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            x = np.asarray(h.getSolution().col_value)
            tx = texpr @ x
            seen_lo, seen_hi = np.minimum(seen_lo, tx), np.maximum(seen_hi, tx)
            return h.getInfo().objective_function_value, x
        if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return -math.inf, None
        raise RuntimeError(f"disclosure audit: a block of {nv} figures has no solution ({h.modelStatusToString(status)}); "
                           "the published system contradicts itself")

    # 1. feasible points: the true values, and vertices for random directions over the narrow targets
    rng = np.random.default_rng(int(vs[0]))
    narrow = seen_hi - seen_lo < wide
    for k in range(MAX_CERTIFICATE_OBJECTIVES):
        if not narrow.any():
            break
        optimum(np.asarray(texpr.T @ (rng.choice([-1.0, 1.0], nt) * narrow)).ravel())
        before, narrow = int(narrow.sum()), seen_hi - seen_lo < wide
        # more directions while each still shows a good share of the rest wide (a vertex costs
        # one solve, an exact range two per target)
        if k >= CERTIFICATE_OBJECTIVES and before - int(narrow.sum()) < max(2, before // 50):
            break
    lo, hi = np.full(nt, np.nan), np.full(nt, np.nan)
    exact = np.zeros(nt, bool)
    whole = np.zeros(nt, bool)  # both ends reached at points whole in every count

    def integral(x: np.ndarray | None) -> bool:
        return x is None or bool(np.all(np.abs(x[is_count] - np.round(x[is_count])) < 1e-6))

    def solve_exact(i: int) -> None:
        c = texpr[i].toarray().ravel()
        v, x = optimum(c)
        lo[i] = v
        ok, touched = integral(x), on_box(x)
        v, x = optimum(-c)
        hi[i] = -v
        touched |= on_box(x)
        if touched and hi[i] - lo[i] < wide and boxed.any():   # the box may have cut the range short
            h.changeColsBounds(nv, cols, np.where(np.isfinite(lo_b), lo_b, -INF), np.where(np.isfinite(hi_b), hi_b, INF))
            v, x = optimum(c)
            lo[i] = v
            ok = integral(x)
            v, x = optimum(-c)
            hi[i] = -v
            h.changeColsBounds(nv, cols, box_lo, box_hi)
        exact[i] = True
        whole[i] = ok and integral(x)

    # 2. exact ranges where no point seen shows the target wide enough
    for i in np.argsort(seen_hi - seen_lo, kind="stable"):
        if seen_hi[i] - seen_lo[i] < wide and not exact[i]:
            solve_exact(i)
    # 3. whole numbers where it matters
    rounded = np.floor(hi + 1e-6) - np.ceil(lo - 1e-6)
    near = np.flatnonzero(exact & t_count & ~whole & (rounded >= protection) & (rounded < protection + 1))
    if len(near):
        h.setOptionValue("mip_rel_gap", 0.0)
        h.changeColsIntegrality(nv, cols, np.where(is_count, highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous))
        for i in near:
            solve_exact(i)
        h.changeColsIntegrality(nv, cols, np.full(nv, highspy.HighsVarType.kContinuous))
    # 4. in a report, the narrowest range of the block exact as well
    while narrowest:
        cand = np.where(exact, np.inf, seen_hi - seen_lo)
        best = np.where(exact, hi - lo, np.inf).min() if exact.any() else np.inf
        i = int(np.argmin(cand))
        if not np.isfinite(cand[i]) or cand[i] >= best:
            break
        solve_exact(i)
    lo = np.where(exact, lo, seen_lo)
    hi = np.where(exact, hi, seen_hi)
    int_t = t_count & exact
    lo[int_t] = np.ceil(lo[int_t] - 1e-6)
    hi[int_t] = np.floor(hi[int_t] + 1e-6)
    return lo, hi, exact, solves
