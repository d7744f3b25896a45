"""Great Expectations checks on the marts, as Dagster asset checks (expectations/marts.py).

The blocking ones stop publication: Dagster will not run the publish step after a failed
blocking check, and publish itself re-reads this run's check results (stack notes, trap 5).
"""

import dagster as dg

from config.settings import Settings
from engine.reader import open_reader
from expectations.marts import MART_CHECKS, check_disadvantage_sources, check_outcomes

OUTCOMES = dg.AssetKey(["marts", "learning_community_outcomes"])
QUALITY = dg.AssetKey(["marts", "learning_community_data_quality"])  # read by the Ever 6 sources check
SPECS = [dg.AssetCheckSpec(c.name, asset=OUTCOMES, blocking=c.blocking, description=f"{c.checks} How to fix: {c.how_to_fix}",
                           additional_deps=[QUALITY]) for c in MART_CHECKS]


@dg.multi_asset_check(specs=SPECS, can_subset=False, name="learning_community_outcomes_checks")
def outcome_checks(context: dg.AssetCheckExecutionContext, settings: dg.ResourceParam[Settings]):
    with open_reader(settings) as con:
        outcomes = con.sql("SELECT * FROM marts.learning_community_outcomes").pl()
        communities = [r[0] for r in con.execute(
            "SELECT learning_community_code FROM marts.dim_learning_communities").fetchall()]
        quality = con.sql("SELECT * FROM marts.learning_community_data_quality").pl()
    for c in [*check_outcomes(outcomes, communities, settings.pupil_count_tolerance), check_disadvantage_sources(quality)]:
        yield dg.AssetCheckResult(
            check_name=c.name, asset_key=OUTCOMES, passed=c.passed,
            severity=dg.AssetCheckSeverity.ERROR if c.blocking else dg.AssetCheckSeverity.WARN,
            description=c.description, metadata={"failing_rows": c.failing_rows, "blocking": c.blocking},
        )
