"""Small-number suppression: primary cells, and complementary cells so nothing can be recovered."""

import polars as pl

from publish.suppression import suppress


def _cell(lc, breakdown, subgroup, n, d, level="Learning community", la="372"):
    return {"time_period": 202324, "measure": "ks2_rwm_expected", "measure_type": "percentage",
            "geographic_level": level, "old_la_code": la, "learning_community_code": lc, "breakdown": breakdown,
            "subgroup": subgroup, "numerator": float(n), "denominator": float(d)}


def _frame():
    rows = []
    for lc, (dn, dd, on, od) in {"LC01": (2, 4, 60, 100), "LC02": (30, 60, 70, 100), "LC03": (25, 50, 80, 120)}.items():
        rows += [_cell(lc, "Total", "Total", dn + on, dd + od), _cell(lc, "Disadvantage", "Disadvantaged", dn, dd),
                 _cell(lc, "Disadvantage", "Not known to be disadvantaged", on, od)]
    rows += [_cell(None, "Total", "Total", 267, 434, "Local authority"),
             _cell(None, "Disadvantage", "Disadvantaged", 57, 114, "Local authority"),
             _cell(None, "Disadvantage", "Not known to be disadvantaged", 210, 320, "Local authority")]
    return pl.DataFrame(rows)


def _hidden(f):
    return {(r["learning_community_code"], r["subgroup"]) for r in f.filter(pl.col("suppressed")).iter_rows(named=True)}


def test_primary_withholds_small_denominators_and_counts_of_one_or_two():
    f = suppress(_frame(), threshold=5, min_count=3)
    assert ("LC01", "Disadvantaged") in _hidden(f)  # denominator 4
    one = pl.DataFrame([_cell("LC09", "Total", "Total", 1, 40)])
    assert suppress(one, 5, 3)["suppressed"].to_list() == [True]  # a count of 1
    all_but_two = pl.DataFrame([_cell("LC09", "Total", "Total", 38, 40)])
    assert suppress(all_but_two, 5, 3)["suppressed"].to_list() == [True]  # complement of 2


def test_no_withheld_cell_can_be_recovered_by_subtraction():
    f = suppress(_frame(), threshold=5, min_count=3)
    hidden = _hidden(f)
    # within LC01: Total - other would give the disadvantaged cell, so a second cell must go
    lc01 = {s for lc, s in hidden if lc == "LC01"}
    assert len(lc01) >= 2
    # across communities: LA disadvantaged - LC02 - LC03 would give LC01's, so another community's goes too
    dis = {lc for lc, s in hidden if s == "Disadvantaged"}
    assert len(dis) >= 2
    # every additive group has either none or at least two withheld cells
    for keys in (["learning_community_code", "breakdown"], ["breakdown", "subgroup"]):
        for g in f.group_by(keys):
            members = g[1]
            if keys == ["learning_community_code", "breakdown"]:
                total = f.filter((pl.col("learning_community_code").eq_missing(members["learning_community_code"][0]))
                                 & (pl.col("breakdown") == "Total"))
                members = pl.concat([members, total]).unique()
            assert members["suppressed"].sum() != 1, members


def test_nothing_withheld_when_every_cell_is_large():
    big = _frame().with_columns(pl.col("numerator") + 50, pl.col("denominator") + 100)
    assert suppress(big, 5, 3)["suppressed"].sum() == 0


def test_each_authority_is_its_own_additive_group():
    """Two authorities in one warehouse: a cell withheld in one is protected within that authority,
    and the other authority's cells are not withheld on its account."""
    other = [_cell(lc, b, g, n, d, level, la="373") for lc, b, g, n, d, level in [
        ("373-LC01", "Total", "Total", 90, 150, "Learning community"),
        ("373-LC02", "Total", "Total", 95, 160, "Learning community"),
        (None, "Total", "Total", 185, 310, "Local authority")]]
    f = suppress(pl.concat([_frame(), pl.DataFrame(other)]), threshold=5, min_count=3)
    assert not f.filter(pl.col("old_la_code") == "373")["suppressed"].any()
    # in 372, LC01's withheld disadvantaged cell still has a complement among 372's communities
    withheld = f.filter(pl.col("suppressed") & (pl.col("subgroup") == "Disadvantaged"))
    assert withheld.height >= 2 and set(withheld["old_la_code"]) == {"372"}



def test_data_quality_counts_are_withheld_like_percentages_and_zeros_are_shown():
    """A count of 1 or 2 is withheld, then another community's beside the authority (or it could be
    recovered by subtraction); a count of 0 in a large cohort identifies nobody and is shown."""
    from publish.suppression import data_quality_cells

    def row(lc, level, check, pupils, cohort):
        return {"time_period": 202425, "geographic_level": level, "old_la_code": "372", "learning_community_code": lc,
                "cohort": "ks4", "check_code": check, "pupils": pupils, "cohort_pupils": cohort}
    quality = pl.DataFrame([
        row("LC01", "Learning community", "results_not_in_cohort", 2, 400),
        row("LC02", "Learning community", "results_not_in_cohort", 9, 500),
        row(None, "Local authority", "results_not_in_cohort", 11, 900),
        row("LC01", "Learning community", "cohort_no_results", 0, 400),
        row("LC02", "Learning community", "cohort_no_results", 0, 500),
        row(None, "Local authority", "cohort_no_results", 0, 900),
    ])
    assert data_quality_cells(quality, 5, 3).to_list() == [True, True, False, False, False, False]


def test_the_same_cells_are_withheld_whatever_order_the_rows_arrive_in():
    """Two equally small complements (LC02 and LC03 both 60 disadvantaged pupils): which one is
    withheld must not depend on row order, or two publications of the same data, read together,
    would give the withheld cell back (docs/methodology.md, secondary suppression)."""
    base = _frame().with_columns(
        denominator=pl.when((pl.col("learning_community_code") == "LC03") & (pl.col("subgroup") == "Disadvantaged"))
        .then(60.0).otherwise(pl.col("denominator")),
        numerator=pl.when((pl.col("learning_community_code") == "LC03") & (pl.col("subgroup") == "Disadvantaged"))
        .then(30.0).otherwise(pl.col("numerator")))
    seen = set()
    for seed in range(8):
        shuffled = base.sample(fraction=1.0, shuffle=True, seed=seed)
        out = suppress(shuffled, threshold=5, min_count=3)
        assert out.select("learning_community_code", "subgroup").equals(shuffled.select("learning_community_code", "subgroup"))
        seen.add(frozenset(_hidden(out)))
    assert len(seen) == 1, seen


def test_a_rolling_pool_is_withheld_when_only_some_of_its_years_are():
    """Pool minus the published years gives the withheld year, so a pool whose years are partly
    withheld is withheld too ("all or none"); a pool of all-published years is shown."""
    from publish.suppression import _rolling_suppression

    geo = {"measure": "ks2_rwm_expected", "geographic_level": "Learning community", "old_la_code": "372",
           "learning_community_code": "LC01"}
    years = [202122, 202223, 202324]
    withheld_year = {202223}
    outcomes = pl.DataFrame([{**geo, "time_period": y, "breakdown": "Disadvantage", "subgroup": s,
                              "suppressed": y in withheld_year and s == "Disadvantaged"}
                             for y in years for s in ("Disadvantaged", "Not known to be disadvantaged")])
    gaps = pl.DataFrame([{**geo, "time_period": y, "measure_type": "percentage",
                          **{f"rolling_{g}_{c}": v for g in ("disadvantaged", "other")
                             for c, v in (("numerator", 40.0), ("denominator", 97.0), ("pupils", 97))}}
                         for y in years])
    flags = _rolling_suppression(gaps, outcomes, threshold=5, min_count=3, rolling_years=3)
    by_year = dict(zip(flags["time_period"], flags["rolling_suppressed"], strict=True))
    assert by_year == {202122: False, 202223: True, 202324: True}
