"""The school census exclusions module for the synthetic borough (docs/methodology.md#exclusions).

The same pupils as the census: an exclusion happens at the school a pupil is on roll at (main
enrolment) in the term's census, to pupils of Reception to Year 13. Suspensions are far more common
in secondary than in primary; disadvantaged pupils, pupils on SEN support or with an EHC plan and
Gypsy, Roma and Traveller pupils at realistically higher rates (EES: about three to four times);
permanent exclusions rare (national rates of about 0.1 per 100 pupils). One learning community
(``BoroughSpec.planted_exclusions_rising``) has suspensions and permanent exclusions rising year on
year, the planted trend the tests detect.

Files as schools return them: one CSV per census return, each holding the exclusions of the terms
that census collects (one and two terms in arrears), so every term's exclusions arrive twice and
the warehouse must count them once. Deterministic for the borough's seed, with its own random
stream, so the other files do not change.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from ingest.exclusions import easter_sunday, exclusion_term
from synthetic.pupils import TERMS, census_date

# reasons and how often each is given (persistent disruptive behaviour most, as in EES)
REASONS_FROM_2020 = {"DB": 0.38, "VA": 0.14, "PP": 0.10, "PA": 0.08, "VP": 0.07, "OW": 0.03, "BU": 0.03, "RA": 0.02,
                     "LG": 0.01, "DS": 0.01, "SM": 0.02, "DA": 0.04, "DM": 0.04, "TH": 0.01, "MT": 0.02}
REASONS_TO_2019 = {"DB": 0.36, "VA": 0.14, "PP": 0.11, "PA": 0.08, "VP": 0.08, "BU": 0.03, "RA": 0.02, "SM": 0.02,
                   "DA": 0.04, "DM": 0.04, "TH": 0.02, "OT": 0.06}
# suspensions per pupil per term by year group, and the permanent exclusion chance per pupil per term
SUSPENSIONS_PER_TERM = {"primary": 0.004, "secondary": 0.035, "sixth_form": 0.006}
PERMANENT_PER_TERM = {"primary": 0.00006, "secondary": 0.0005, "sixth_form": 0.00006}
RISE_PER_YEAR = 0.6  # the planted community's rates grow by 60% of the first year's each year
# which terms each census collects: (term offset back from the census term)
COLLECTS = (1, 2)


def _term_dates(year: int, term: str) -> tuple[date, date]:
    easter = easter_sunday(year + 1)
    return {"autumn": (date(year, 9, 3), date(year, 12, 18)),
            "spring": (date(year + 1, 1, 5), easter - timedelta(days=3)),
            "summer": (easter + timedelta(days=15), date(year + 1, 7, 20))}[term]


def _school_day(rng: np.random.Generator, start: date, end: date) -> date:
    while True:
        d = start + timedelta(days=int(rng.integers(0, (end - start).days + 1)))
        if d.weekday() < 5:
            return d


def simulate_exclusions(spec, borough, pop) -> pl.DataFrame:
    """One row per exclusion: pupil_index, school_index, academic year, term, category, reasons, start date, sessions."""
    rng = np.random.default_rng([spec.seed, 20])
    lc_of = dict(zip(borough.establishments["school_index"].cast(pl.Int64).to_list(),
                     borough.establishments["learning_community_code"].to_list()))
    planted = spec.planted_exclusions_rising
    grt_codes = {"WIRT", "WROM"}
    grt = pop.pupils["ethnicity"].is_in(list(grt_codes)).to_numpy()
    rows = []
    for w, y in enumerate(spec.years):
        reasons = REASONS_FROM_2020 if y >= 2020 else REASONS_TO_2019
        codes, weights = list(reasons), np.array(list(reasons.values()))
        weights = weights / weights.sum()
        for t, term in enumerate(TERMS):
            on_roll = pop.census.filter((pl.col("year") == y) & (pl.col("term") == t) & pl.col("enrol_status").is_in(["C", "M"])
                                        & pl.col("nc").is_between(0, 13)).sort("pupil_index", "school_index")
            idx = on_roll["pupil_index"].to_numpy()
            school = on_roll["school_index"].to_numpy()
            nc = on_roll["nc"].to_numpy()
            phase = np.where(nc <= 6, "primary", np.where(nc <= 11, "secondary", "sixth_form"))
            sen = pop.sen[idx, w]
            mult = (1 + 2.0 * pop.disadvantaged[idx, w] + 2.0 * (sen == 1) + 1.5 * (sen == 2) + 1.5 * grt[idx])
            rising = np.array([lc_of.get(int(s)) == planted for s in school])
            mult = mult * np.where(rising, 1 + RISE_PER_YEAR * w, 1.0)
            susp = rng.poisson(np.array([SUSPENSIONS_PER_TERM[p] for p in phase]) * mult)
            perm = rng.random(len(idx)) < np.array([PERMANENT_PER_TERM[p] for p in phase]) * mult
            start, end = _term_dates(y, term)
            for i in np.flatnonzero((susp > 0) | perm):
                kinds = ["SUSP"] * int(susp[i]) + (["PERM"] if perm[i] else [])
                for kind in kinds:
                    n = 1 + int(rng.random() < 0.25) + int(rng.random() < 0.08)
                    rs = list(rng.choice(codes, size=n, replace=False, p=weights))
                    day = _school_day(rng, start, end)
                    rows.append({"pupil_index": int(idx[i]), "school_index": int(school[i]), "year": y, "term": term,
                                 "category": kind, "reason": rs[0], "reason_2": rs[1] if n > 1 else None,
                                 "reason_3": rs[2] if n > 2 else None, "start": day,
                                 "sessions": None if kind == "PERM" else int(rng.choice([1, 2, 2, 4, 4, 6, 10]))})
    frame = pl.DataFrame(rows, schema={"pupil_index": pl.Int64, "school_index": pl.Int64, "year": pl.Int64,
                                       "term": pl.String, "category": pl.String, "reason": pl.String,
                                       "reason_2": pl.String, "reason_3": pl.String, "start": pl.Date,
                                       "sessions": pl.Int64})
    # one exclusion per pupil, school, category and day (two drawn on one day are one)
    return frame.unique(["pupil_index", "school_index", "category", "start"], keep="first", maintain_order=True)


def returns(spec) -> list[tuple[int, int, list[tuple[int, str]]]]:
    """(census year, census term, the (academic year, term)s it collects), for every census from the
    first year's spring to the autumn after the last year (which brings the last summer term)."""
    out = []
    for y in [*spec.years, spec.last_year + 1]:
        for t in range(3):
            if (y, t) < (spec.first_year, 1) or (y, t) > (spec.last_year + 1, 0):
                continue
            collected = []
            for back in COLLECTS:
                k = y * 3 + t - back
                ey, et = divmod(k, 3)
                if spec.first_year <= ey <= spec.last_year:
                    collected.append((ey, TERMS[et]))
            out.append((y, t, collected))
    return out


def write_exclusions(spec, borough, pop, out: Path, identity, file_year) -> list[str]:
    """The census exclusions returns, one CSV per census (real census headers)."""
    ex = simulate_exclusions(spec, borough, pop)
    files = []
    for y, t, collected in returns(spec):
        keys = pl.DataFrame({"year": [c[0] for c in collected], "term": [c[1] for c in collected]},
                            schema={"year": pl.Int64, "term": pl.String})
        part = ex.join(keys, on=["year", "term"], how="semi").sort("start", "pupil_index", "category")
        assert all(exclusion_term(d) == (yy, tt) for d, yy, tt in part.select("start", "year", "term").iter_rows())
        frame = part.select(
            "pupil_index", "school_index",
            CensusDate=pl.lit(census_date(y, t).strftime("%d/%m/%Y")), Category=pl.col("category"),
            Reason=pl.col("reason"), Reason2=pl.col("reason_2"), Reason3=pl.col("reason_3"),
            StartDate=pl.col("start").dt.strftime("%d/%m/%Y"), Sessions=pl.col("sessions"))
        name = f"census_exclusions_{file_year(y)}_{TERMS[t]}.csv"
        identity(pop, borough, frame).write_csv(out / name)
        files.append(name)
    return files
