"""Great Expectations checks on the marts, as Dagster asset checks (expectations/marts.py).

The blocking ones stop publication: Dagster will not run the publish step after a failed
blocking check, and publish itself re-reads this run's check results (stack notes, trap 5).
"""

import duckdb
import dagster as dg

from expectations.marts import check_outcomes
from ingest.settings import get_settings

OUTCOMES = dg.AssetKey(["marts", "learning_community_outcomes"])
SPECS = [
    dg.AssetCheckSpec("rates_within_range", asset=OUTCOMES, blocking=True,
                      description="Every percentage and rate lies in 0-100."),
    dg.AssetCheckSpec("numerator_within_denominator", asset=OUTCOMES, blocking=True,
                      description="No numerator exceeds its denominator."),
    dg.AssetCheckSpec("every_community_every_year", asset=OUTCOMES, blocking=True,
                      description="Every learning community has pupils on roll in every year."),
    dg.AssetCheckSpec("pupil_count_stable", asset=OUTCOMES, blocking=False,
                      description="A community's pupils on roll do not jump between years beyond the tolerance."),
]


@dg.multi_asset_check(specs=SPECS, can_subset=False, name="learning_community_outcomes_checks")
def outcome_checks(context: dg.AssetCheckExecutionContext):
    settings = get_settings()
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        outcomes = con.sql("SELECT * FROM marts.learning_community_outcomes").pl()
        communities = [r[0] for r in con.execute(
            "SELECT learning_community_code FROM marts.dim_learning_communities").fetchall()]
    for c in check_outcomes(outcomes, communities, settings.pupil_count_tolerance):
        yield dg.AssetCheckResult(
            check_name=c.name, asset_key=OUTCOMES, passed=c.passed,
            severity=dg.AssetCheckSeverity.ERROR if c.blocking else dg.AssetCheckSeverity.WARN,
            description=c.description, metadata={"failing_rows": c.failing_rows, "blocking": c.blocking},
        )
