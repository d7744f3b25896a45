"""Disclosure control on a real refresh of the small borough (the session's `refreshed`
warehouse): the same marts give the same withheld figures whatever the row order, the primary
rules hold, and a count withheld in one row is never shown in another (docs/methodology.md#what-a-reader-can-combine)."""

import dataclasses
import json

import duckdb
import numpy as np
import polars as pl
import pytest

from config.settings import PROJECT_ROOT
from publish.contract import load_contract
from publish.relations import STRUCTURAL, Rules
from publish.suppression import decide


@pytest.fixture(scope="module")
def marts(refreshed):
    contract = load_contract(PROJECT_ROOT / "dbt_project" / "target" / "manifest.json")
    with duckdb.connect(str(refreshed.warehouse), read_only=True) as wh:
        return {name: wh.sql(f"SELECT * FROM {t.relation}").pl() for name, t in contract.items()}


@pytest.fixture(scope="module")
def decision(marts):
    return decide(marts, Rules())


def test_the_same_marts_in_another_row_order_withhold_the_same_figures(marts, decision):
    shuffled = {n: f.with_row_index("_r").sample(fraction=1.0, shuffle=True, seed=11) for n, f in marts.items()}
    again = decide({n: f.drop("_r") for n, f in shuffled.items()}, Rules())
    assert np.array_equal(again.hidden, decision.hidden)
    for table, flags in decision.flags.items():
        order = shuffled[table]["_r"].to_numpy()
        for name, flag in flags.items():
            assert np.array_equal(again.flags[table][name].to_numpy(), flag.to_numpy()[order]), (table, name)


def test_primary_rules_hold_in_the_outcomes(marts, decision):
    o = marts["learning_community_outcomes"].with_columns(
        num_h=decision.flags["learning_community_outcomes"]["numerator"],
        cell=decision.flags["learning_community_outcomes"]["cell"])
    # cells fixed by definition (docs/methodology.md#structural-cells) are known to every reader
    by_definition = pl.DataFrame([{"measure": m, "breakdown": b, "subgroup": g} for m, b, g in STRUCTURAL])
    pct = o.filter(pl.col("measure_type") == "percentage").join(by_definition, on=["measure", "breakdown", "subgroup"],
                                                                how="anti")
    few = pct.filter(pl.col("numerator").is_between(1, 2) | (pl.col("denominator") - pl.col("numerator")).is_between(1, 2))
    assert few.height and few["num_h"].all()
    small = o.filter(pl.col("pupils").is_between(1, 5))
    assert small.height and small["cell"].all()
    group = pct.filter(
        pl.col("denominator").is_between(1, 10) & ((pl.col("numerator") == 0) | (pl.col("numerator") == pl.col("denominator"))))
    assert group["num_h"].all()  # 0% or 100% of a group of 10 or fewer (other than cells fixed by definition)


def test_a_withheld_figure_is_not_shown_in_another_row(marts, decision):
    o = marts["learning_community_outcomes"].with_columns(
        den_h=decision.flags["learning_community_outcomes"]["denominator"])
    rows = decision.system.rows["learning_community_outcomes"]["denominator"]
    shown = pl.DataFrame({"var": rows, "hidden": o["den_h"]}).group_by("var").agg(pl.col("hidden").n_unique())
    assert shown["hidden"].max() == 1  # a shared denominator is withheld everywhere or nowhere
    g = decision.flags["learning_community_disadvantage_gaps"]
    assert int(g["rolling"].sum()) > 0


def test_an_attack_on_every_published_relation_narrows_no_withheld_count(decision):
    """The reader's attack (docs/methodology.md#disclosure-audit): every withheld count's range
    over everything published, solved exactly, is at least the protection level wide."""
    from publish.audit import audit

    result = audit(decision.system, decision.hidden, Rules().protection)
    assert result.cells_audited > 1000
    assert result.passed, (len(result.too_narrow), sorted({c["cell"] for c in result.too_narrow})[:40])


def test_the_refresh_published_only_after_the_audit_passed(refreshed):
    # the audit ran inside the refresh (on by default) and its figures are in the manifest
    manifest = json.loads((refreshed.published_dir / "current" / "manifest.json").read_text())
    figures = manifest["disclosure_audit"]
    assert figures["too_narrow"] == 0 and figures["cells_audited"] > 1000
    assert figures["narrowest_range"] >= figures["protection_level"] == refreshed.disclosure_protection_level


def test_the_audit_blocks_a_publication_a_reader_could_narrow(decision, refreshed):
    """Show every complement again (only the primary figures withheld, as table-by-table
    suppression without complements would): the reader's sums give them back, and the audit
    refuses to publish, naming the counts."""
    from publish.publication import PublicationBlocked, audit_or_block

    assert audit_or_block(decision, refreshed, progress=lambda _: None)["too_narrow"] == 0
    primary_only = dataclasses.replace(decision, hidden=decision.hidden & decision.primary)
    with pytest.raises(PublicationBlocked, match=r"can be narrowed by a reader .* narrower than the protection level \(3\)"):
        audit_or_block(primary_only, refreshed, progress=lambda _: None)
