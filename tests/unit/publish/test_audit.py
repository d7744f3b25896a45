"""The disclosure audit's bounds (publish/ranges.py, publish/audit.py) on systems small enough to
check by hand: what a reader can solve for, the audit must find."""

import numpy as np
import polars as pl

from publish.audit import audit
from publish.relations import _Builder


def _system(values: dict[str, float], sums: list[tuple[list[str], str]]):
    """Counts ``values`` with relations sum(parts) = whole."""
    b = _Builder()
    keys = sorted(values)
    b.add_vars(pl.DataFrame({"key": keys, "table": "outcomes", "family": "f", "value": [values[k] for k in keys],
                             "kind": "count", "lo": 0.0, "hi": float("inf"), "sensitive": False, "publishable": True,
                             "unit": keys, "region": "r", "priority": 0, "size": 1.0}))
    for i, (parts, whole) in enumerate(sums):
        b.add_eq(pl.DataFrame({"con": f"c{i}", "key": [*parts, whole], "coef": [1.0] * len(parts) + [-1.0]}))
    b.add_targets(pl.DataFrame({"target": keys, "key": keys, "coef": 1.0, "var_key": keys, "kind": "count"}))
    return b.build()


def test_a_lone_withheld_count_in_a_sum_is_found_exactly():
    s = _system({"a": 2, "b": 40, "t": 42}, [(["a", "b"], "t")])
    hidden = (s.var["key"] == "a").to_numpy()
    result = audit(s, hidden, 3)
    assert result.cells_audited == 1 and result.narrowest_range == 0
    assert not result.passed and "outcomes" in result.message() and "a" in result.message()


def test_two_withheld_counts_in_a_sum_keep_their_range():
    s = _system({"a": 2, "b": 40, "t": 42}, [(["a", "b"], "t")])
    hidden = s.var["key"].is_in(["a", "b"]).to_numpy()
    result = audit(s, hidden, 3)
    assert result.passed and result.narrowest_range == 42  # each anywhere from 0 to 42


def test_chains_across_two_directions_are_solved():
    # rows: a + b = r1, c + d = r2; columns: a + c = k1, b + d = k2. Withholding a, b, c only:
    # d is published, so c = r2 - d, then a = k1 - c, b = r1 - a: the audit finds all three.
    vals = {"a": 1, "b": 9, "c": 7, "d": 3, "r1": 10, "r2": 10, "k1": 8, "k2": 12}
    s = _system(vals, [(["a", "b"], "r1"), (["c", "d"], "r2"), (["a", "c"], "k1"), (["b", "d"], "k2")])
    hidden = s.var["key"].is_in(["a", "b", "c"]).to_numpy()
    assert audit(s, hidden, 3).narrowest_range == 0
    # withholding d as well leaves a cycle: each moves with the others
    hidden = s.var["key"].is_in(["a", "b", "c", "d"]).to_numpy()
    result = audit(s, hidden, 3)
    assert result.passed and np.isclose(result.narrowest_range, 8)
