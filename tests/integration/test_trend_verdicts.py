"""How often does a trend verdict cry wolf? Thousands of gap series with no underlying trend are
generated, the real SQL of learning_community_gap_trends judges them (dbt runs the model on a DuckDB
file holding the simulated rows), and the share given "narrowing" or "widening" must stay at the 5%
docs/methodology.md#trend-classification promises - both when years vary only by sampling and when
they scatter three to four times more than sampling explains. The oracle's rule, written from the
methodology, must give the same verdict on every series; a strong real trend must still be found."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from orchestration.dbt_args import DBT_PROJECT_DIR, dbt_args
from tests import oracle
from tests.conftest import make_settings
from tests.oracle import Z, trend

SERIES = 4000  # per no-trend scenario: the false-verdict rate is then known to about +/-0.35 points (one standard error)
YEARS = (3, 4, 5)
SCENARIOS = {  # measure: (scatter of the true gap between years, in sampling standard deviations; slope per year, pp)
    "no_trend_sampling": (0.0, 0.0),
    "no_trend_scatter": (3.5, 0.0),
    "real_trend": (1.0, -6.0),
}


def _simulate(rng: np.random.Generator) -> pl.DataFrame:
    rows = []
    for measure, (scatter, slope) in SCENARIOS.items():
        higher_is_better = measure != "no_trend_scatter"  # exercise both sign conventions
        for i in range(SERIES if slope == 0 else 300):
            k = YEARS[i % len(YEARS)] if slope == 0 else 5
            n_d, n_o = int(rng.integers(30, 400)), int(rng.integers(100, 1500))
            p_o = rng.uniform(0.45, 0.85)
            p_d = p_o - rng.uniform(0.05, 0.25)
            sd = math.sqrt(p_o * (1 - p_o) / n_o + p_d * (1 - p_d) / n_d)
            for j, year in enumerate(range(2019, 2019 + k)):
                # the disadvantaged group's true rate moves by the trend and a year effect, then is sampled
                true_d = p_d - slope / 100 * j + scatter * sd * rng.standard_normal()
                d = int(rng.binomial(n_d, min(max(true_d, 0.01), 0.99)))
                o = int(rng.binomial(n_o, p_o))
                if not higher_is_better:  # a lower-is-better measure: the disadvantaged rate is the higher one
                    d, o = n_d - d, n_o - o
                rows.append(dict(time_period=year * 100 + (year + 1) % 100, time_identifier="Academic year",
                                 geographic_level="Learning community", old_la_code="372",
                                 learning_community_code=f"S{i:05d}", stage="sim", measure=measure,
                                 measure_type="percentage", academic_year=year,
                                 disadvantaged_numerator=float(d), disadvantaged_denominator=float(n_d),
                                 other_numerator=float(o), other_denominator=float(n_o)))
    return pl.DataFrame(rows).with_columns(pl.col("time_period", "academic_year").cast(pl.Int32))


def _run_the_model(rows: pl.DataFrame, tmp_path: Path, higher_is_better: dict[str, bool] | None = None) -> pl.DataFrame:
    """learning_community_gap_trends, the real SQL, over ``rows`` (the gaps mart's columns); the measures'
    direction from ``higher_is_better`` (default: the scenarios above)."""
    higher_is_better = higher_is_better or {m: m != "no_trend_scatter" for m in SCENARIOS}
    settings = make_settings(tmp_path, warehouse_path=tmp_path / "simulated.duckdb")
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("CREATE SCHEMA marts; CREATE SCHEMA reference")
        con.register("rows", rows.to_arrow())
        con.execute("""CREATE TABLE marts.learning_community_disadvantage_gaps AS
                       SELECT *, CAST(NULL AS VARCHAR) AS learning_community_name, CAST(NULL AS VARCHAR) AS collaborative,
                              CAST(NULL AS DOUBLE) AS national_gap FROM rows""")
        # decimal places: a real measure's from the measures seed; the simulated scenarios' 1
        places = dict(oracle.measure_info().select("measure", "decimals").iter_rows())
        con.execute(f"""CREATE TABLE reference.measures AS SELECT * FROM (VALUES
                        {", ".join(f"('{m}', {str(h).lower()}, {places.get(m, 1)})" for m, h in higher_is_better.items())})
                        AS t(measure, higher_is_better, decimals)""")
    dbt = Path(sys.executable).parent / "dbt"
    run = subprocess.run([str(dbt), *dbt_args("run", settings, "--select", "learning_community_gap_trends",
                                              "--target-path", str(tmp_path / "target")), "--profiles-dir", "."],
                         cwd=DBT_PROJECT_DIR, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:]
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.sql("SELECT * FROM marts.learning_community_gap_trends").pl()


def test_a_trend_verdict_is_wrong_at_most_one_time_in_twenty_when_nothing_changes(tmp_path):
    rows = _simulate(np.random.default_rng(20251125))
    judged = _run_the_model(rows, tmp_path)

    # every series judged, and the SQL agrees with the rule written from the methodology
    assert judged.height == 2 * SERIES + 300
    by_series = {key: part for key, part in rows.group_by(["measure", "learning_community_code"])}
    sampling_only_verdicts = {m: 0 for m in SCENARIOS}
    for r in judged.iter_rows(named=True):
        part = by_series[(r["measure"], r["learning_community_code"])]
        series = [dict(year=y, dis_num=dn, dis_den=dd, oth_num=on, oth_den=od) for y, dn, dd, on, od in part.select(
            "academic_year", "disadvantaged_numerator", "disadvantaged_denominator", "other_numerator",
            "other_denominator").iter_rows()]
        expected = trend(series, r["measure"] != "no_trend_scatter")
        assert (r["trend"], r["interval_basis"]) == (expected["trend"], expected["basis"]), r
        assert abs(r["gap_change_per_year"] - expected["slope"]) < 0.0051
        assert abs(r["gap_change_per_year_lower_95"] - expected["lower"]) < 0.0051
        assert abs(r["gap_change_per_year_upper_95"] - expected["upper"]) < 0.0051
        # what the old rule (sampling variation alone) would have said, for contrast
        sampling_only_verdicts[r["measure"]] += abs(expected["slope"]) > _sampling_half_width(series)

    verdict = judged.with_columns(called=pl.col("trend") != "no clear change").group_by("measure").agg(
        rate=pl.col("called").mean(), narrowing=(pl.col("trend") == "narrowing").mean())
    rate = {m: (r, n) for m, r, n in verdict.iter_rows()}
    limit = 0.05 + 3 * math.sqrt(0.05 * 0.95 / SERIES)
    print(f"\nfalse verdicts with no trend: sampling only {rate['no_trend_sampling'][0]:.1%}, "
          f"overdispersed {rate['no_trend_scatter'][0]:.1%} (sampling-only rule: "
          f"{sampling_only_verdicts['no_trend_scatter'] / SERIES:.1%}); real trend found {rate['real_trend'][1]:.1%}")
    assert rate["no_trend_sampling"][0] <= limit
    assert rate["no_trend_scatter"][0] <= limit
    # the simulation really is overdispersed: judged on sampling variation alone, the same series
    # would often be called, which is the over-confidence the rule corrects
    assert sampling_only_verdicts["no_trend_scatter"] / SERIES > 0.2
    # and the rule is not merely timid: a steady fall of 6 points a year over 5 years is usually found
    assert rate["real_trend"][1] > 0.5


def _sampling_half_width(series: list[dict]) -> float:
    """The old rule's 95% half-width: each year's binomial sampling variance only."""
    t = [r["year"] for r in series]
    tm = sum(t) / len(t)
    sxx = sum((x - tm) ** 2 for x in t)
    v = []
    for r in series:
        po, pd = r["oth_num"] / r["oth_den"], r["dis_num"] / r["dis_den"]
        v.append(1e4 * (po * (1 - po) / r["oth_den"] + pd * (1 - pd) / r["dis_den"]))
    return Z * math.sqrt(sum((x - tm) ** 2 * vv for x, vv in zip(t, v))) / sxx
