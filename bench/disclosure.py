"""Disclosure control at borough size, measured and printed (never asserted in a test):
``.venv/bin/python -m bench.disclosure data/warehouse.duckdb`` after ``make demo``.

Prints the size of the published system (docs/methodology.md#what-a-reader-can-combine), the time
to build it and to choose what to withhold, and the disclosure audit's figures and run time
(docs/methodology.md#disclosure-audit)."""

from __future__ import annotations

import sys
import time

import duckdb

from config.settings import PROJECT_ROOT, Settings
from publish.audit import audit
from publish.contract import load_contract
from publish.relations import Rules, build_system
from publish.suppression import decide


def main() -> int:
    settings = Settings()
    warehouse = sys.argv[1] if len(sys.argv) > 1 else str(settings.warehouse)
    contract = load_contract(PROJECT_ROOT / "dbt_project" / "target" / "manifest.json")
    with duckdb.connect(warehouse, read_only=True) as wh:
        marts = {name: wh.sql(f"SELECT * FROM {t.relation}").pl() for name, t in contract.items()}
    rules = Rules.from_settings(settings)
    t0 = time.perf_counter()
    system = build_system(marts, rules)
    t1 = time.perf_counter()
    decision = decide(marts, rules, system=system)
    t2 = time.perf_counter()
    print(f"system      {t1 - t0:8.1f} s  {system.n:,} counts, {system.eq.shape[0]:,} equalities, "
          f"{system.le.shape[0]:,} inequalities, {system.target.height:,} targets", flush=True)
    print(f"suppression {t2 - t1:8.1f} s  {int(decision.primary.sum()):,} primary, {int(decision.hidden.sum()):,} withheld",
          flush=True)
    print(f"            {decision.rounds} repair rounds; tables withheld whole (publishing less): "
          f"{', '.join(decision.coarsened) or 'none'}", flush=True)
    result = audit(system, decision.hidden, rules.protection)
    print(f"audit       {result.seconds:8.1f} s  {result.as_manifest()}", flush=True)
    for t in result.too_narrow[:10]:
        print(f"  too narrow: {t}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
