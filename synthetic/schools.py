"""Learning communities and schools of the synthetic borough.

Each learning community has one secondary and a handful of primary-phase schools (some as
infant/junior pairs, now and then a nursery school); special schools and the pupil referral
unit each sit in one community but take pupils from all. Some schools convert to academies
during the period: a new URN from the conversion date, same LAESTAB, predecessor URN kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from synthetic.spec import BoroughSpec

PLACE_NAMES = [
    "Aston", "Brinsworth", "Clifton", "Dinnington", "Maltby", "Oakwood", "Rawmarsh", "Swinton",
    "Thrybergh", "Wales", "Wath", "Wickersley", "Wingfield", "Winterhill", "Kiveton", "Rother Valley",
    "Thurcroft", "Kimberworth", "Greasbrough", "Herringthorpe", "Bramley", "Treeton", "Laughton", "Anston",
]
SCHOOL_SUFFIXES = ["Park", "Hill", "Road", "Lane", "Village", "St Mary's", "Meadows", "Valley", "Green", "Brook"]

# NC year index used throughout: -1 = N2 (nursery), 0 = Reception, 1..13 = Years 1..13.
PHASE_RANGES = {
    "Nursery": (-1, -1),
    "Infant": (-1, 2),
    "Junior": (3, 6),
    "Primary": (-1, 6),
    "Secondary": (7, 13),  # sixth form only where has_sixth_form
    "Special": (0, 13),
    "Pupil referral unit": (7, 11),
}


@dataclass
class Borough:
    learning_communities: pl.DataFrame
    schools: pl.DataFrame  # one row per URN (academy converters have two)
    establishments: pl.DataFrame  # one row per LAESTAB: the unit pupils attend


def build_borough(spec: BoroughSpec, rng: np.random.Generator) -> Borough:
    n_lc = spec.n_learning_communities
    lc_codes = [f"LC{i + 1:02d}" for i in range(n_lc)]
    names = [PLACE_NAMES[i % len(PLACE_NAMES)] + ("" if i < len(PLACE_NAMES) else f" {i // len(PLACE_NAMES) + 1}") for i in range(n_lc)]
    collab = [spec.collaboratives[min(i * len(spec.collaboratives) // n_lc, len(spec.collaboratives) - 1)] for i in range(n_lc)]
    # Deprivation differs by community (north and centre more deprived), so disadvantage does.
    deprivation = np.clip(rng.normal(0.0, 0.45, n_lc) + np.linspace(0.35, -0.35, n_lc), -1.2, 1.2)
    size = np.clip(rng.normal(1.0, 0.18, n_lc), 0.6, 1.5)
    lcs = pl.DataFrame({
        "learning_community_code": lc_codes,
        "learning_community_name": [f"{n} Learning Community" for n in names],
        "collaborative": collab,
        "deprivation": deprivation,
        "size_weight": size / size.sum(),
    })

    rows: list[dict] = []
    estab_counter = {"primary": 2000, "secondary": 4000, "special": 7000, "pru": 1100}
    urn_counter = [106000 + spec.la_code % 100 * 10]

    def add(kind: str, phase: str, lc: str, name: str, low: int, high: int, sixth: bool = False, nursery: bool = False):
        estab_counter[kind] += 1 if kind != "primary" else int(rng.integers(1, 4))
        urn_counter[0] += int(rng.integers(1, 9))
        rows.append({
            "laestab": spec.la_code * 10_000 + estab_counter[kind],
            "urn": urn_counter[0],
            "school_name": name,
            "phase": phase,
            "learning_community_code": lc,
            "low_nc": low,
            "high_nc": high if (phase != "Secondary" or sixth) else 11,
            "has_nursery": nursery,
        })

    used_names: set[str] = set()

    def school_name(place: str, kind: str) -> str:
        for _ in range(50):
            n = f"{place} {SCHOOL_SUFFIXES[int(rng.integers(len(SCHOOL_SUFFIXES)))]} {kind}"
            if n not in used_names:
                used_names.add(n)
                return n
        n = f"{place} {kind} {len(used_names)}"
        used_names.add(n)
        return n

    for i, lc in enumerate(lc_codes):
        place = names[i]
        n_primary = max(2, spec.primary_schools_per_learning_community + int(rng.integers(-1, 2)))
        slot = 0
        while slot < n_primary:
            if slot > 0 and rng.random() < 0.15 and slot + 1 < n_primary:  # infant + junior pair
                base = school_name(place, "")
                add("primary", "Infant", lc, base + "Infant School", -1, 2, nursery=True)
                add("primary", "Junior", lc, base + "Junior School", 3, 6)
                slot += 2
            else:
                add("primary", "Primary", lc, school_name(place, "Primary School"), -1, 6, nursery=rng.random() < 0.6)
                slot += 1
        if rng.random() < 0.12:
            add("primary", "Nursery", lc, school_name(place, "Nursery School"), -1, -1, nursery=True)
        add("secondary", "Secondary", lc, f"{place} Academy" if rng.random() < 0.7 else f"{place} Comprehensive School",
            7, 13, sixth=rng.random() < 0.6)
    for j in range(spec.n_special_schools):
        lc = lc_codes[(j * 5 + 2) % n_lc]
        add("special", "Special", lc, school_name(names[lc_codes.index(lc)], "Special School"), 0, 13)
    for j in range(spec.n_pupil_referral_units):
        lc = lc_codes[(j * 7 + 1) % n_lc]
        add("pru", "Pupil referral unit", lc, f"{names[lc_codes.index(lc)]} Pupil Referral Unit", 7, 11)

    est = pl.DataFrame(rows).with_row_index("school_index")
    est = est.with_columns(
        school_effect=pl.Series(rng.normal(0.0, 0.18, est.height)),
        establishment_type=pl.when(pl.col("phase") == "Pupil referral unit").then(pl.lit("Pupil referral unit"))
        .when(pl.col("phase") == "Special").then(pl.lit("Community special school"))
        .otherwise(pl.lit("Community school")),
    )

    # Academy conversions: about 40% of schools convert on a 1st of the month within the period.
    convert = rng.random(est.height) < 0.4
    conv_year = rng.integers(spec.first_year, spec.last_year + 1, est.height)
    conv_month = rng.choice([4, 9, 1], est.height)
    school_rows = []
    academy_urn = 136_000 + int(rng.integers(0, 5000))  # academies get URNs from their own, later range
    for r, c, y, m in zip(est.iter_rows(named=True), convert, conv_year, conv_month):
        open_date = date(2000, 9, 1)
        if c:
            conv_date = date(int(y) + (1 if m < 9 else 0), int(m), 1)
            school_rows.append({**r, "open_date": open_date, "close_date": conv_date - timedelta(days=1),
                                "predecessor_urn": None})
            academy_urn += int(rng.integers(1, 40))
            school_rows.append({**r, "urn": academy_urn,
                                "school_name": r["school_name"].replace("Comprehensive School", "Academy").replace("School", "Academy"),
                                "establishment_type": {"Special": "Academy special converter",
                                                       "Pupil referral unit": "Academy alternative provision converter"
                                                       }.get(r["phase"], "Academy converter"),
                                "open_date": conv_date, "close_date": None, "predecessor_urn": int(r["urn"])})
        else:
            school_rows.append({**r, "open_date": open_date, "close_date": None, "predecessor_urn": None})
    schools = pl.DataFrame(school_rows, schema_overrides={"predecessor_urn": pl.Int64, "close_date": pl.Date})
    schools = schools.join(lcs.select("learning_community_code", "collaborative"), on="learning_community_code")
    return Borough(learning_communities=lcs, schools=schools, establishments=est)

