"""The 95% interval the scorecard draws around one year's gap
(docs/methodology.md#gap-interval-for-one-year): Newcombe's hybrid score interval for the
difference between two independent proportions, from the published numerators and denominators.
"""

from __future__ import annotations

import math

Z95 = 1.959964


def wilson(x: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for the proportion x / n."""
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def gap_interval(x_other: float | None, n_other: float | None, x_dis: float | None, n_dis: float | None,
                 lower_is_better: bool = False) -> tuple[float, float] | None:
    """95% interval, in percentage points, for the gap between two groups' percentages, with the
    gap's sign convention (positive = disadvantaged pupils behind). None when a count is missing."""
    if None in (x_other, n_other, x_dis, n_dis) or not n_other or not n_dis:
        return None
    if not (0 <= x_other <= n_other and 0 <= x_dis <= n_dis):
        return None
    if lower_is_better:  # gap = disadvantaged - other
        x_other, n_other, x_dis, n_dis = x_dis, n_dis, x_other, n_other
    p1, p2 = x_other / n_other, x_dis / n_dis
    l1, u1 = wilson(x_other, n_other)
    l2, u2 = wilson(x_dis, n_dis)
    d = p1 - p2
    return (100 * (d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)),
            100 * (d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)))
