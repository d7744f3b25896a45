"""Funded early education for the synthetic borough (docs/methodology.md#funded-early-education): the
authority's postcode sectors per learning community, its lists of eligible two-year-olds and the
January early years census of PVI providers' funded children, in the layouts of ingest/early_years.py.

The same children as the school census: every child born in the borough (not a later joiner) is a
resident from birth, living in the community of the first school the census holds them at (a child
the files never see at school lives in a community drawn at random). Each January, for the academic
years whose two-year-olds all reach the borough's Reception classes by its last year:

- a two-year-old (aged 2 on 31 December) from a family the pupil premium later counts disadvantaged
  is on the authority's list far more often (about half) than another child (about 5%);
- about three in four listed children take up a funded place at a PVI setting of their community
  (England: 74-75% in 2023 and 2024), fewer in the communities of higher deprivation;
- three- and four-year-olds not in a school's nursery or Reception class on the January census (nor of
  Reception age, in the years before the census files begin) are
  at a PVI setting for the universal 15 hours in about nine cases in ten (England: 94-95%);
- the authority's population estimates (``population_estimates.csv``, ages 3 and 4 by postcode sector and
  mid-year) count every generated child living in the sector plus about 2% more whom no file holds (a
  family that uses no funded place and no school yet, or one ONS counts and the authority never meets),
  so the estimate is never below the children the files hold and take-up of three- and four-year-olds
  is about 90% (England 90-95% in 2018-2024). A simplification: a child's age in the synthetic estimate
  is their age on 31 December of the mid-year, the census's age rule (ONS gives age at 30 June).

Deterministic for the borough's seed with its own random stream, so the other files do not change.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

LISTED_DISADVANTAGED, LISTED_OTHER = 0.5, 0.05
UNSEEN_RESIDENTS = 0.02  # residents the population estimate holds and no file does
TAKE_UP_TWO, TAKE_UP_THREE_FOUR = 0.76, 0.9
SETTINGS_PER_COMMUNITY = 3


def sectors(n_communities: int) -> list[tuple[str, str]]:
    """(postcode sector, learning community code): two sectors per community."""
    out = []
    for i in range(n_communities):
        for j in range(2):
            k = 2 * i + j
            out.append((f"S{20 + k // 9} {k % 9 + 1}", f"LC{i + 1:02d}"))
    return out


def years(spec) -> list[int]:
    """Academic years of the January censuses and lists: from two before the borough's first year to the
    last whose two-year-olds all reach Reception by its last year."""
    return list(range(spec.first_year - 2, spec.last_year - 1))


def _january_census(y: int) -> date:
    d = date(y + 1, 1, 1)
    return date(y + 1, 1, 1 + (3 - d.weekday()) % 7 + 14)


def simulate_early_years(spec, borough, pop) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(list rows, early years census rows, residents), one row per child, with pupil_index and the home
    sector; residents: every generated child living in the borough, with dob and home postcode."""
    rng = np.random.default_rng([spec.seed, 19, 3])
    codes = borough.learning_communities["learning_community_code"].to_list()
    lc_of_school = dict(zip(borough.establishments["school_index"].cast(pl.Int64).to_list(),
                            borough.establishments["learning_community_code"].to_list()))
    first = (pop.census.sort("year", "term").group_by("pupil_index", maintain_order=True).first()
             .select("pupil_index", "school_index"))
    kids = pop.pupils.filter(~pl.col("joiner")).select("pupil_index", "dob", "cohort").join(first, on="pupil_index",
                                                                                             how="left")
    home = [lc_of_school.get(s) if s is not None else None for s in kids["school_index"].to_list()]
    drawn = rng.integers(0, len(codes), kids.height)
    home = [h if h is not None else codes[d] for h, d in zip(home, drawn)]
    by_lc: dict[str, list[str]] = {}
    for s, lc in sectors(len(codes)):
        by_lc.setdefault(lc, []).append(s)
    sector = [by_lc[h][int(u)] for h, u in zip(home, rng.integers(0, 2, kids.height))]
    postcode = [f"{s}{'ABDEFGHJLNPQRSTUWXYZ'[int(a)]}{'ABDEFGHJLNPQRSTUWXYZ'[int(b)]}"
                for s, a, b in zip(sector, rng.integers(0, 20, kids.height), rng.integers(0, 20, kids.height))]
    kids = kids.with_columns(home_lc=pl.Series(home), postcode=pl.Series(postcode))
    ever_dis = pop.disadvantaged.any(axis=1)
    lc_dep = dict(zip(codes, borough.learning_communities["deprivation"].to_list())) \
        if "deprivation" in borough.learning_communities.columns else {}
    at_school = pop.census.filter(pl.col("term") == 1).select("year", "pupil_index")
    lists, places = [], []
    for y in years(spec):
        day = _january_census(y)
        born = kids.filter(pl.col("dob").dt.year().is_between(y - 4, y - 2))
        age = (y - born["dob"].dt.year()).to_numpy()
        idx = born["pupil_index"].to_numpy()
        schooled = set(at_school.filter(pl.col("year") == y)["pupil_index"].to_list())
        u_list, u_take = rng.random(born.height), rng.random(born.height)
        dep = np.array([lc_dep.get(h, 0.0) for h in born["home_lc"].to_list()])
        for i, r in enumerate(born.iter_rows(named=True)):
            p = int(idx[i])
            setting = 500000 + 10 * (codes.index(r["home_lc"]) + 1) + int(u_take[i] * 97) % SETTINGS_PER_COMMUNITY
            if age[i] == 2:
                if u_list[i] >= (LISTED_DISADVANTAGED if ever_dis[p] else LISTED_OTHER):
                    continue
                basis = "LAA" if pop.cla[p].any() else ("HSD" if pop.sen[p].max() == 2 and u_list[i] < 0.01 else "ECO")
                lists.append({"pupil_index": p, "postcode": r["postcode"], "ListDate": date(y, 12, 1), "Basis": basis})
                if u_take[i] < TAKE_UP_TWO - 0.04 * dep[i]:
                    places.append({"pupil_index": p, "postcode": r["postcode"], "day": day, "setting": setting,
                                   "funded": 15.0, "extended": 0.0, "basis": basis, "age": 2})
            elif p not in schooled and r["cohort"] > y and u_take[i] < TAKE_UP_THREE_FOUR:
                # (a child of Reception age is in a school's Reception class, even before the census files begin)
                places.append({"pupil_index": p, "postcode": r["postcode"], "day": day, "setting": setting,
                               "funded": 15.0, "extended": float(15 * (u_list[i] < 0.35)), "basis": None,
                               "age": int(age[i])})
    lists_df = pl.DataFrame(lists, schema={"pupil_index": pl.Int64, "postcode": pl.String, "ListDate": pl.Date,
                                           "Basis": pl.String})
    places_df = pl.DataFrame(places, schema={"pupil_index": pl.Int64, "postcode": pl.String, "day": pl.Date,
                                             "setting": pl.Int64, "funded": pl.Float64, "extended": pl.Float64,
                                             "basis": pl.String, "age": pl.Int64})
    return lists_df, places_df, kids.select("pupil_index", "dob", "postcode")


def population_estimates(spec, residents: pl.DataFrame) -> pl.DataFrame:
    """Residents aged 3 and 4 by postcode sector, mid-year and age (the layout of ingest/early_years.py): the
    generated children and about UNSEEN_RESIDENTS more (its own random stream)."""
    rng = np.random.default_rng([spec.seed, 19, 34])
    sector = pl.col("postcode").str.slice(0, pl.col("postcode").str.len_chars() - 2)
    r = residents.select(sector=sector, born=pl.col("dob").dt.year())
    rows = []
    for y in years(spec):
        counts = (r.with_columns(age=y - pl.col("born")).filter(pl.col("age").is_between(3, 4))
                  .group_by("sector", "age").len().sort("sector", "age"))
        extra = rng.binomial(counts["len"].to_numpy(), UNSEEN_RESIDENTS)
        rows.append(counts.select(PostcodeSector="sector", MidYear=pl.lit(y, pl.Int64), Age=pl.col("age").cast(pl.Int64),
                                  Population=pl.col("len").cast(pl.Int64) + pl.Series(extra, dtype=pl.Int64)))
    return pl.concat(rows)


def write_early_years(spec, borough, pop, out: Path, identity) -> list[str]:
    """home_areas.csv, one eligible list per year (December, before the January census) and one early
    years census per January."""
    files = ["home_areas.csv"]
    pl.DataFrame(sectors(borough.learning_communities.height), schema=["PostcodeSector", "LearningCommunityCode"],
                 orient="row").write_csv(out / files[0])
    lists, places, residents = simulate_early_years(spec, borough, pop)
    population_estimates(spec, residents).write_csv(out / "population_estimates.csv")
    files.append("population_estimates.csv")
    ever_dis = pop.disadvantaged.any(axis=1)
    for y in years(spec):
        part = lists.filter(pl.col("ListDate").dt.year() == y)
        frame = part.select("pupil_index", school_index=pl.lit(None, pl.Int64), HomePostcode="postcode",
                            ListDate=pl.col("ListDate").dt.strftime("%d/%m/%Y"), EligibilityBasis="Basis")
        name = f"eligible_two_year_olds_{y}-12.csv"
        identity(pop, borough, frame).drop("LAESTAB").write_csv(out / name)
        files.append(name)
        part = places.filter(pl.col("day").dt.year() == y + 1)
        sen = [("E" if pop.sen[p].max() == 2 else "K" if pop.sen[p].max() == 1 else "N") if a >= 3 else "N"
               for p, a in zip(part["pupil_index"].to_list(), part["age"].to_list())]
        frame = part.select(
            "pupil_index", school_index=pl.lit(None, pl.Int64), HomePostcode="postcode",
            SettingURN="setting", CensusDate=pl.col("day").dt.strftime("%d/%m/%Y"), FundedHours="funded",
            ExtendedHours="extended", HoursAtSetting=pl.col("funded") + pl.col("extended") + 2.5,
            TwoYearOldBasis="basis",
            EYPP=pl.Series([("Y" if ever_dis[p] else "N") for p in part["pupil_index"].to_list()], dtype=pl.String),
            SENprovision=pl.Series(sen, dtype=pl.String))
        name = f"early_years_census_{y + 1}-01.csv"
        identity(pop, borough, frame).drop("LAESTAB").write_csv(out / name)
        files.append(name)
    return files
