"""The disclosure audit: a blocking step of write-audit-publish (docs/methodology.md#disclosure-audit).

For every withheld count (and the complements a reader could use: pupils not meeting a measure,
pupils who left), the smallest and largest values consistent with everything published and
every relation of docs/methodology.md#what-a-reader-can-combine, by linear programming (HiGHS,
publish/ranges.py). A range narrower than the protection level stops the publication.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from publish.ranges import target_ranges
from publish.relations import System


class DisclosureAuditFailed(Exception):
    """A withheld count can be narrowed below the protection level; nothing was published."""


@dataclass
class AuditResult:
    cells_withheld: int
    cells_audited: int
    narrowest_range: float | None
    narrowest_cell: str | None
    seconds: float
    protection_level: int
    too_narrow: list[dict] = field(default_factory=list)

    def as_manifest(self) -> dict:
        return {"cells_withheld": self.cells_withheld, "cells_audited": self.cells_audited,
                "narrowest_range": self.narrowest_range, "narrowest_cell": self.narrowest_cell,
                "protection_level": self.protection_level, "seconds": round(self.seconds, 2),
                "too_narrow": len(self.too_narrow)}

    @property
    def passed(self) -> bool:
        return not self.too_narrow

    def message(self) -> str:
        shown = "; ".join(f"{t['table']} cell {t['cell']}: between {t['lo']:g} and {t['hi']:g}" for t in self.too_narrow[:5])
        more = f" (and {len(self.too_narrow) - 5} more)" if len(self.too_narrow) > 5 else ""
        return (f"disclosure audit: {len(self.too_narrow)} withheld count(s) can be narrowed by a reader to a range "
                f"narrower than the protection level ({self.protection_level}): {shown}{more}. Nothing was published.")


def audit(system: System, hidden: np.ndarray, protection: int) -> AuditResult:
    """Bound every withheld count of the publication whose withheld variables are ``hidden``."""
    t0 = time.perf_counter()
    r = target_ranges(system, hidden, protection, narrowest=True)
    width = np.where(r.audited & ~np.isnan(r.lo), r.hi - r.lo, np.inf)
    keys = system.target["target"].to_numpy()
    tables = system.var["table"].to_numpy()[system.target["var"].to_numpy()]
    narrow = np.flatnonzero(width < protection - 1e-9)
    narrow = narrow[np.argsort(keys[narrow], kind="stable")]
    too = [{"table": str(tables[i]), "cell": str(keys[i]), "lo": float(r.lo[i]), "hi": float(r.hi[i])} for i in narrow]
    best = int(np.argmin(width)) if np.isfinite(width).any() else None
    return AuditResult(
        cells_withheld=int(hidden.sum()), cells_audited=int(r.audited.sum()),
        narrowest_range=None if best is None else float(width[best]),
        narrowest_cell=None if best is None else str(keys[best]),
        seconds=time.perf_counter() - t0, protection_level=protection, too_narrow=too)
