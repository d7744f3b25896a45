"""The authority's monthly post-16 activity tracking for the synthetic borough
(docs/methodology.md#post-16-participation-and-neet), in Pathways' own extract format (ingest/nccis.py).

The same pupils as the census: every young person of academic age 16 or 17 who was on the borough's
census is tracked at the end of December, January, February and March of each year. One still on a
school's roll in Year 12 or 13 is in school sixth form (210); the others are in college, further
education, an apprenticeship, employment, NEET or not known, with disadvantaged and SEN young people
NEET at realistically higher rates (about twice). The Year 11 school is the last one the census
holds for them in Year 11 (so tracking starts with the first Year 11 in the files). Young people
whose Year 11 school is in one learning community
(``BoroughSpec.planted_neet_rising``) become NEET more often each year: the planted trend.
Deterministic for the borough's seed, with its own random stream, so the other files do not change.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

MONTHS = (12, 1, 2, 3)  # the December-February NEET average and participation at the end of March
NEET_RATE, NOT_KNOWN_RATE = 0.025, 0.02
RISE_PER_YEAR = 1.5
# the rest, away from school: (code, share)
ELSEWHERE = ((220, 0.25), (230, 0.45), (310, 0.12), (250, 0.03), (410, 0.04), (330, 0.07), (360, 0.02), (280, 0.02))


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def simulate_post16(spec, borough, pop) -> pl.DataFrame:
    """One row per young person per snapshot: pupil_index, y11 school_index (or null), snapshot, activity."""
    rng = np.random.default_rng([spec.seed, 21])
    lc_of = dict(zip(borough.establishments["school_index"].cast(pl.Int64).to_list(),
                     borough.establishments["learning_community_code"].to_list()))
    main = pop.census.filter(pl.col("enrol_status").is_in(["C", "M"]))
    y11 = (main.filter(pl.col("nc") == 11).sort("year", "term").group_by("pupil_index", maintain_order=True).last()
           .select("pupil_index", y11_school="school_index"))
    ever = main.select("pupil_index").unique()
    # tracked: the young people whose Year 11 the census holds (an earlier Year 11 is before the borough's files)
    pupils = pop.pupils.join(ever, on="pupil_index").join(y11, on="pupil_index", how="inner").sort("pupil_index")
    codes, shares = [c for c, _ in ELSEWHERE], np.array([p for _, p in ELSEWHERE])
    shares = shares / shares.sum()
    rows = []
    for w, y in enumerate(spec.years):
        dob = pupils["dob"]
        age = (y - dob.dt.year() - (dob.dt.month() >= 9).cast(pl.Int32)).to_numpy()
        cohort = pupils.filter(pl.Series((age == 16) | (age == 17)))
        if cohort.height == 0:
            continue
        idx = cohort["pupil_index"].to_numpy()
        school = cohort["y11_school"].to_numpy()
        sixth = set(main.filter((pl.col("year") == y) & (pl.col("term") == 1) & (pl.col("nc") >= 12))["pupil_index"])
        wy = min(w, pop.sen.shape[1] - 1)
        mult = 1 + 1.2 * pop.disadvantaged[idx, wy] + 1.0 * (pop.sen[idx, wy] > 0)
        rising = np.array([lc_of.get(int(s)) == spec.planted_neet_rising if s is not None and s == s else False
                           for s in school])
        neet_p = NEET_RATE * mult * np.where(rising, 1 + RISE_PER_YEAR * w, 1.0)
        base = rng.choice(codes, size=len(idx), p=shares)
        start = [date(y, 9, 1) + timedelta(days=int(d)) for d in rng.integers(0, 60, len(idx))]
        for m in MONTHS:
            cy = y if m >= 9 else y + 1
            snap = _month_end(cy, m)
            u = rng.random(len(idx))
            for i, p in enumerate(idx):
                if int(p) in sixth:
                    code, begun = 210, date(y, 9, 1)
                elif u[i] < neet_p[i]:
                    code, begun = 619, snap - timedelta(days=20)
                elif u[i] < neet_p[i] + NOT_KNOWN_RATE:
                    code, begun = 810, snap - timedelta(days=25)
                else:
                    code, begun = int(base[i]), start[i]
                s = school[i]
                rows.append({"pupil_index": int(p), "school_index": None if s is None or s != s else int(s),
                             "snapshot": snap, "activity": code, "begun": begun,
                             "send": ("E" if pop.sen[p, wy] == 2 else "K" if pop.sen[p, wy] == 1 else "N")})
    return pl.DataFrame(rows, schema={"pupil_index": pl.Int64, "school_index": pl.Int64, "snapshot": pl.Date,
                                      "activity": pl.Int64, "begun": pl.Date, "send": pl.String})


def write_post16(spec, borough, pop, out: Path, identity) -> list[str]:
    """One CSV per month-end snapshot, as the authority's tracking system exports it."""
    act = simulate_post16(spec, borough, pop)
    files = []
    for (snap,), part in act.partition_by(["snapshot"], as_dict=True, maintain_order=True).items():
        frame = part.select("pupil_index", "school_index", SnapshotDate=pl.col("snapshot").dt.strftime("%d/%m/%Y"),
                            ActivityCode=pl.col("activity"), ActivityStartDate=pl.col("begun").dt.strftime("%d/%m/%Y"),
                            SEND=pl.col("send"))
        df = identity(pop, borough, frame).rename({"LAESTAB": "Y11LAESTAB"})
        name = f"post16_activity_{snap:%Y-%m}.csv"
        df.write_csv(out / name)
        files.append(name)
    return files
