"""Every published figure recomputed straight from a generated borough's files with polars, to check
a publication against. Written from the definitions in docs/methodology.md (each function cites the
section it follows), never from the SQL it checks: no dbt model, macro or warehouse table is read.
Reference data the methodology names as its source (the schools and learning communities files, the
ethnicity code list and the national benchmark seeds) is read as files.

Run it on any generated folder and its publication:

    .venv/bin/python -m tests.oracle <generated folder> <publication pathways.duckdb>

It prints every mismatch (published figure vs recomputation, numerators and denominators exact,
values within 0.05) and exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

SEEDS = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds"
TOTAL, DIS, OTHER = "Total", "Disadvantaged", "Not known to be disadvantaged"
LC_LEVEL, LA_LEVEL = "Learning community", "Local authority"

# docs/methodology.md#settings: the defaults a refresh uses unless told otherwise
PHONICS_THRESHOLD = 32
PERSISTENT, SEVERE = 0.10, 0.50
TREND_YEARS, ROLLING_YEARS = 5, 3
Z = 1.959964
# docs/methodology.md#trend-slope: Student's t, 97.5th percentile, df 1..30
T975 = [12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139,
        2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963,
        2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272]


def _schools_reference(folder: Path) -> pl.DataFrame:
    """urn, laestab, opened, lc: from schools.csv, or (docs/methodology.md#gias-extracts) from a GIAS
    extract (LAESTAB = LA code x 10000 + establishment number), its links file and the membership file."""
    if (folder / "schools.csv").exists():
        return pl.read_csv(folder / "schools.csv", infer_schema_length=0).select(
            laestab=_number("LAESTAB"), urn=_number("URN"), opened=_date("OpenDate"), lc=pl.col("LearningCommunityCode"))
    [extract] = sorted(folder.glob("edubasealldata*.csv"))
    g = pl.read_csv(extract, infer_schema_length=0, encoding="windows-1252").select(
        urn=_number("URN"), laestab=_number("LA (code)") * 10000 + _number("EstablishmentNumber"),
        opened=pl.col("OpenDate").str.strptime(pl.Date, "%d-%m-%Y", strict=False))
    m = pl.read_csv(folder / "learning_community_membership.csv", infer_schema_length=0).select(
        urn=_number("URN"), lc=pl.col("LearningCommunityCode"))
    g = g.join(m, on="urn", how="left")
    links = sorted(folder.glob("links_edubasealldata*.csv"))
    if links:
        lk = pl.read_csv(links[0], infer_schema_length=0, encoding="windows-1252").filter(
            pl.col("LinkType").str.starts_with("Predecessor") | pl.col("LinkType").str.starts_with("Successor"))
        # a school the membership file does not list takes the community of the school it is linked to
        linked = lk.select(urn=_number("URN"), other=_number("LinkURN")).join(
            g.select(other="urn", other_lc="lc", other_opened="opened"), on="other").filter(pl.col("other_lc").is_not_null())
        linked = (linked.sort(["other_opened", "other"], descending=True, nulls_last=True)
                  .group_by("urn", maintain_order=True).first().select("urn", "other_lc"))
        g = g.join(linked, on="urn", how="left").with_columns(lc=pl.coalesce("lc", "other_lc")).drop("other_lc")
    return g.filter(pl.col("lc").is_not_null())


# ---------------------------------------------------------------------------------------------
# reading the files as an authority receives them

def read_excel_with_title(path: Path) -> pl.DataFrame:
    """A workbook whose header row ('UPN', ...) may sit below a title block, as DfE downloads do."""
    raw = pl.read_excel(path, has_header=False, infer_schema_length=0)
    header = next(i for i, r in enumerate(raw.iter_rows()) if r[0] == "UPN")
    body = raw.slice(header + 1)
    body.columns = [str(c) for c in raw.row(header)]
    return body


def census(folder: Path, pattern: str) -> pl.DataFrame:
    """Every CSV matching the pattern, stacked, all columns as text."""
    return pl.concat([pl.read_csv(p, infer_schema_length=0) for p in sorted(folder.glob(pattern))], how="diagonal")


def _read(folder: Path, stem: str) -> pl.DataFrame:
    frames = []
    for p in sorted(folder.glob(f"{stem}_*")):
        if p.suffix == ".csv":
            frames.append(pl.read_csv(p, infer_schema_length=0))
        elif p.suffix == ".xlsx":
            frames.append(read_excel_with_title(p))
    return pl.concat(frames, how="diagonal") if frames else pl.DataFrame()


def _year(col: str) -> pl.Expr:
    """'2023/24' -> 2023 (docs/methodology.md#academic-year)."""
    return pl.col(col).str.slice(0, 4).cast(pl.Int64)


def _date(col: str) -> pl.Expr:
    return pl.col(col).str.strptime(pl.Date, "%d/%m/%Y", strict=False)


def _age_months(year: pl.Expr, dob: str = "DOB") -> pl.Expr:
    """Whole months at 31 August of the academic year (docs/methodology.md#pseudonymisation)."""
    d = _date(dob)
    return (year - d.dt.year()) * 12 + (8 - d.dt.month())


def _number(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Int64, strict=False)


@dataclass
class Borough:
    census: pl.DataFrame
    eyfsp: pl.DataFrame
    phonics: pl.DataFrame
    ks1: pl.DataFrame
    ks2: pl.DataFrame
    ks4: pl.DataFrame
    attendance: pl.DataFrame
    pupil_premium: pl.DataFrame
    schools: pl.DataFrame          # LAESTAB -> learning community (most recently opened URN)
    communities: pl.DataFrame
    exclusions: pl.DataFrame | None = None     # the census exclusions returns, as written
    school_types: pl.DataFrame | None = None   # LAESTAB -> school type (docs/methodology.md#exclusions)
    post16: pl.DataFrame | None = None         # the monthly post-16 activity snapshots, as written
    early_years: dict | None = None            # funded early education files, as written (early_years_files)


def load(folder: Path) -> Borough:
    folder = Path(folder)
    c = census(folder, "school_census_*.csv").with_columns(census_date=_date("CensusDate"))
    d = pl.col("census_date")
    c = c.with_columns(
        # docs/methodology.md#academic-year: August-December starts the year, January-July ends it
        year=pl.when(d.dt.month() >= 8).then(d.dt.year()).otherwise(d.dt.year() - 1).cast(pl.Int64),
        term=pl.when(d.dt.month() >= 8).then(pl.lit("autumn")).when(d.dt.month() <= 3).then(pl.lit("spring"))
        .otherwise(pl.lit("summer")),
    ).with_columns(
        laestab=_number("LAESTAB"), upn=pl.col("UPN"),
        nc=pl.col("NCyearActual").str.to_uppercase(),
        enrol=pl.col("EnrolStatus").str.to_uppercase(),
        entry=_date("EntryDate"),
        fsm=pl.col("FSMeligible").str.to_lowercase().is_in(["yes", "y", "true", "1"]),
        sen=pl.col("SENprovision").str.to_uppercase().replace("S", "E").fill_null("N"),
        need=pl.col("SENtype1").str.to_uppercase(),
        ethnicity=pl.col("Ethnicity").str.to_uppercase(),
        language=pl.col("FirstLanguage").str.to_uppercase(),
        sex=pl.col("Gender").str.to_uppercase(),
        age=_age_months(pl.col("year")),
    ).with_columns(
        nc_num=pl.when(pl.col("nc") == "R").then(0).otherwise(pl.col("nc").cast(pl.Int64, strict=False)),
    )

    def results(stem: str) -> pl.DataFrame:
        r = _read(folder, stem)
        if r.height == 0:
            return r
        return r.with_columns(year=_year("AcademicYear"), laestab=_number("LAESTAB"), upn=pl.col("UPN"))

    att = census(folder, "attendance_*.csv").with_columns(
        year=_year("AcademicYear"), laestab=_number("LAESTAB"), upn=pl.col("UPN"), term=pl.col("Term").str.to_lowercase(),
        possible=_number("PossibleSessions"), authorised=_number("SessionsAuthorisedAbsence"),
        unauthorised=_number("SessionsUnauthorisedAbsence"))
    att = att.with_columns(age=_age_months(pl.col("year")))
    pp = results("pupil_premium")
    yes = lambda col: pl.col(col).str.to_uppercase().is_in(["Y", "YES", "TRUE", "1"]).fill_null(False)  # noqa: E731
    pp = pp.with_columns(ever6=yes("Ever6FSM"), cla=yes("CLA"), plac=yes("PLAC"))

    # docs/methodology.md#laestab: a LAESTAB is described by its most recently opened URN
    s = _schools_reference(folder)
    s = (s.sort(["opened", "urn"], descending=True, nulls_last=True).group_by("laestab", maintain_order=True).first()
         .select("laestab", "lc"))
    lcs = pl.read_csv(folder / "learning_communities.csv", infer_schema_length=0)
    ex = (census(folder, "census_exclusions_*.csv") if any(folder.glob("census_exclusions_*.csv"))
          else pl.DataFrame(schema={c: pl.String for c in ("UPN", "LAESTAB", "CensusDate", "Category", "StartDate")}))
    p16 = (census(folder, "post16_activity_*.csv") if any(folder.glob("post16_activity_*.csv"))
           else pl.DataFrame(schema={c: pl.String for c in ("UPN", "DOB", "SnapshotDate", "ActivityCode", "Y11LAESTAB")}))
    return Borough(c, results("eyfsp"), results("phonics"), results("ks1"), results("ks2"), results("ks4"), att, pp, s, lcs,
                   ex, _school_types(folder), p16, early_years_files(folder))


# --- funded early education (docs/methodology.md#funded-early-education) ---------------------------------

def early_years_files(folder: Path) -> dict | None:
    """The January early years censuses, the eligible two-year-olds lists and the home areas, as written."""
    if not any(folder.glob("eligible_two_year_olds_*.csv")):
        return None
    return {"census": census(folder, "early_years_census_*.csv"), "lists": census(folder, "eligible_two_year_olds_*.csv"),
            "areas": pl.read_csv(folder / "home_areas.csv", infer_schema_length=0),
            "population": (pl.read_csv(folder / "population_estimates.csv", infer_schema_length=0)
                           if (folder / "population_estimates.csv").exists() else None)}


def _sector(col: str) -> pl.Expr:
    """A postcode's sector: outward code, a space, the inward code's digit ("S60 1AB" -> "S60 1")."""
    pc = pl.col(col).str.to_uppercase().str.replace_all(" ", "")
    return pc.str.slice(0, pc.str.len_chars() - 3) + " " + pc.str.slice(-3, 1)


def two_year_olds(b: Borough) -> pl.DataFrame:
    """Per eligible two-year-old and academic year: the home community and whether they were in a place.
    Eligible: on a list of the academic year dated by its January early years census, aged 2 on the
    31 December before it; in a place: funded hours in that census, or on a school's January census."""
    ey, la = b.early_years, b.census["laestab"].drop_nulls()[0] // 10000
    year_of = lambda d: pl.when(d.dt.month() >= 8).then(d.dt.year()).otherwise(d.dt.year() - 1).cast(pl.Int64)  # noqa: E731
    places = ey["census"].with_columns(day=_date("CensusDate")).with_columns(
        year=year_of(pl.col("day")), hours=pl.col("FundedHours").cast(pl.Float64))
    census_day = places.group_by("year").agg(census_day=pl.col("day").max())
    funded = places.filter(pl.col("hours") > 0).select(upn="UPN", year="year").unique()
    at_school = b.census.filter(pl.col("term") == "spring").select("upn", "year").unique()
    taken = pl.concat([funded, at_school.cast({"year": pl.Int64})]).unique().with_columns(took_up=pl.lit(True))
    lists = ey["lists"].with_columns(day=_date("ListDate"), born=_date("DOB")).with_columns(year=year_of(pl.col("day")))
    lists = lists.filter(pl.col("year") - pl.col("born").dt.year() == 2).join(census_day, on="year", how="left")
    lists = lists.filter(pl.col("census_day").is_null() | (pl.col("day") <= pl.col("census_day")))
    lists = (lists.sort("day").group_by("UPN", "year", maintain_order=True).last()
             .with_columns(sector=_sector("HomePostcode")))
    areas = ey["areas"].select(sector="PostcodeSector", home_lc="LearningCommunityCode")
    return (lists.select(upn="UPN", year="year", sector="sector").join(areas, on="sector", how="left")
            .join(taken, on=["upn", "year"], how="left")
            .with_columns(took_up=pl.col("took_up").fill_null(False), laestab=pl.lit(la * 10000, pl.Int64)))


def three_four_year_olds(b: Borough) -> pl.DataFrame | None:
    """docs/methodology.md#three_four_year_old_take_up, per learning community (None: the authority only) and
    year, at Total only: children aged 3 or 4 on 31 December before the January census, funded in that
    early years census or on that January's school census, counted once, by the community of their home
    postcode sector (this year's census, else the nearest year's record: earlier first) or, with no
    postcode held, of their school; over the ONS estimate of residents aged 3 and 4 at the mid-year of that
    31 December, by the community of each sector. Only years with all three sources."""
    ey = b.early_years
    if ey is None or ey.get("population") is None:
        return None
    year_of = lambda d: pl.when(d.dt.month() >= 8).then(d.dt.year()).otherwise(d.dt.year() - 1).cast(pl.Int64)  # noqa: E731
    areas = ey["areas"].select(sector="PostcodeSector", area_lc="LearningCommunityCode")
    places = ey["census"].with_columns(day=_date("CensusDate"), born=_date("DOB")).with_columns(year=year_of(pl.col("day")))
    lists = ey["lists"].with_columns(day=_date("ListDate")).with_columns(year=year_of(pl.col("day")))
    homes = pl.concat([places.select(upn="UPN", home_year="year", sector=_sector("HomePostcode")),
                       lists.select(upn="UPN", home_year="year", sector=_sector("HomePostcode"))]).drop_nulls("sector")
    funded = places.filter((pl.col("FundedHours").cast(pl.Float64) > 0)
                           & (pl.col("year") - pl.col("born").dt.year()).is_in([3, 4])).select(upn="UPN", year="year")
    spring = b.census.filter(pl.col("term") == "spring").with_columns(born=_date("DOB"))
    school = (spring.filter((pl.col("year") - pl.col("born").dt.year()).is_in([3, 4]))
              .group_by("upn", "year").agg(laestab=pl.col("laestab").min()))
    pop = ey["population"].select(sector="PostcodeSector", year=pl.col("MidYear").cast(pl.Int64),
                                  age=pl.col("Age").cast(pl.Int64), population=pl.col("Population").cast(pl.Float64))
    pop = pop.filter(pl.col("age").is_in([3, 4]))
    years = (set(places["year"].to_list()) & set(spring["year"].to_list()) & set(pop["year"].to_list()))
    kids = pl.concat([funded, school.select("upn", "year")]).unique().filter(pl.col("year").is_in(years))
    nearest = (kids.join(homes, on="upn", how="inner")
               .with_columns(later=pl.col("home_year") > pl.col("year"), gap=(pl.col("home_year") - pl.col("year")).abs())
               .sort("later", "gap", "sector").group_by("upn", "year", maintain_order=True).first())
    kids = (kids.join(nearest.select("upn", "year", "sector"), on=["upn", "year"], how="left")
            .join(areas, on="sector", how="left").join(school, on=["upn", "year"], how="left")
            .join(b.schools.select("laestab", school_lc="lc"), on="laestab", how="left")
            .with_columns(lc=pl.when(pl.col("sector").is_null()).then(pl.col("school_lc")).otherwise(pl.col("area_lc"))))
    res = (pop.filter(pl.col("year").is_in(years)).join(areas, on="sector", how="left")
           .select("year", lc="area_lc", population="population"))
    la = str(b.census["laestab"].drop_nulls()[0] // 10000)
    # a sector (or school) in no community counts in the authority only
    num = pl.concat([kids.drop_nulls("lc").group_by("year", "lc").agg(numerator=pl.len().cast(pl.Float64)),
                     kids.group_by("year").agg(numerator=pl.len().cast(pl.Float64)).with_columns(lc=pl.lit(None, pl.String))],
                    how="diagonal")
    den = pl.concat([res.drop_nulls("lc").group_by("year", "lc").agg(denominator=pl.col("population").sum()),
                     res.group_by("year").agg(denominator=pl.col("population").sum()).with_columns(lc=pl.lit(None, pl.String))],
                    how="diagonal")
    out = num.join(den, on=["year", "lc"], how="full", coalesce=True, nulls_equal=True).with_columns(
        pl.col("numerator", "denominator").fill_null(0.0))
    return out.with_columns(
        geographic_level=pl.when(pl.col("lc").is_null()).then(pl.lit(LA_LEVEL)).otherwise(pl.lit(LC_LEVEL)),
        old_la_code=pl.lit(la), stage=pl.lit("early_education"), measure=pl.lit("three_four_year_old_take_up"),
        measure_type=pl.lit("percentage"), breakdown=pl.lit(TOTAL), subgroup=pl.lit(TOTAL),
        pupils=pl.col("numerator").cast(pl.Int64))


def post16_pupils(b: Borough) -> pl.DataFrame:
    """docs/methodology.md#post-16-participation-and-neet: per young person of academic age 16-17 and year,
    months in the December-February cohort (custody not), NEET and not known among them, and March."""
    codes = pl.read_csv(SEEDS / "nccis_activity_codes.csv", infer_schema_length=0).select(
        code=pl.col("activity_code").cast(pl.Int64), kind=pl.col("counted_as"))
    day = _date("SnapshotDate")
    p = b.post16.select(upn=pl.col("UPN"), snapshot=day, code=_number("ActivityCode"), file_y11=_number("Y11LAESTAB"),
                        born=_date("DOB"))
    p = p.sort("snapshot").unique(["upn", "snapshot"], keep="last").join(codes, on="code", how="left").with_columns(
        year=pl.when(pl.col("snapshot").dt.month() >= 8).then(pl.col("snapshot").dt.year())
        .otherwise(pl.col("snapshot").dt.year() - 1).cast(pl.Int64), month=pl.col("snapshot").dt.month())
    # academic age: age on 31 August at the start of the academic year
    age = pl.col("year") - pl.col("born").dt.year() - (pl.col("born").dt.month() >= 9).cast(pl.Int64)
    p = p.filter(age.is_between(16, 17)).with_columns(age=age)
    djf, cohort = pl.col("month").is_in([12, 1, 2]), pl.col("kind") != "custody"
    per = p.group_by("upn", "year").agg(
        cohort_months=(djf & cohort).sum(), neet_months=(djf & (pl.col("kind") == "neet")).sum(),
        nk_months=(djf & (pl.col("kind") == "not_known")).sum(),
        march=((pl.col("month") == 3) & cohort).any(),
        participating=((pl.col("month") == 3) & (pl.col("kind") == "participating")).any(),
        # docs/methodology.md#cohort-stage-age-17: neither NEET nor not known (nor custody) at the end of March
        eet=((pl.col("month") == 3) & pl.col("kind").is_in(["participating", "other"])).any(),
        age=pl.col("age").max(), file_y11=pl.col("file_y11").max())
    # where they finished Year 11: the last main enrolment in Year 11 on the census, else the file's
    y11 = (b.census.filter(pl.col("enrol").is_in(["C", "M", "F"]) & (pl.col("nc") == "11"))
           .sort(["census_date", "laestab"], descending=[True, False]).group_by("upn", maintain_order=True).first()
           .select("upn", census_y11="laestab"))
    per = per.join(y11, on="upn", how="left").with_columns(laestab=pl.coalesce("census_y11", "file_y11"))
    return per.filter(pl.col("laestab").is_not_null())


def _school_types(folder: Path) -> pl.DataFrame:
    """docs/methodology.md#exclusions: each LAESTAB's school type from its most recently opened URN's phase
    and establishment type."""
    if (folder / "schools.csv").exists():
        r = pl.read_csv(folder / "schools.csv", infer_schema_length=0).select(
            laestab=_number("LAESTAB"), opened=_date("OpenDate"), urn=_number("URN"),
            phase=pl.col("Phase"), kind=pl.col("TypeOfEstablishment"))
    else:
        [extract] = sorted(folder.glob("edubasealldata*.csv"))
        r = pl.read_csv(extract, infer_schema_length=0, encoding="windows-1252").select(
            laestab=_number("LA (code)") * 10000 + _number("EstablishmentNumber"), urn=_number("URN"),
            opened=pl.col("OpenDate").str.strptime(pl.Date, "%d-%m-%Y", strict=False),
            phase=pl.col("PhaseOfEducation (name)"), kind=pl.col("TypeOfEstablishment (name)"))
    r = r.sort(["opened", "urn"], descending=True, nulls_last=True).group_by("laestab", maintain_order=True).first()
    phase, kind = pl.col("phase").str.to_lowercase().fill_null(""), pl.col("kind").str.to_lowercase().fill_null("")
    return r.select("laestab", school_type=pl.when(kind.str.contains("referral") | kind.str.contains("alternative"))
                    .then(pl.lit("Alternative provision"))
                    .when(kind.str.contains("special") | (phase == "special")).then(pl.lit("Special"))
                    .when(phase.is_in(["primary", "infant", "junior", "middle deemed primary"])).then(pl.lit("Primary"))
                    .when(phase.is_in(["secondary", "middle deemed secondary", "all-through", "16 plus"]))
                    .then(pl.lit("Secondary")).otherwise(pl.lit("Other")))


def _easter(year: int):
    """Gregorian Easter Sunday (the Meeus/Jones/Butcher algorithm)."""
    from datetime import date

    a, b, c = year % 19, year // 100, year % 100
    h = (19 * a + b - b // 4 - (8 * b + 13) // 25 + 15) % 30
    i = (32 + 2 * (b % 4) + 2 * (c // 4) - h - c % 4) % 7
    m = (a + 11 * h + 22 * i) // 451
    month = (h + i - 7 * m + 114) // 31
    return date(year, month, (h + i - 7 * m + 114) % 31 + 1)


def exclusion_pupils(b: Borough, spine: pl.DataFrame) -> pl.DataFrame:
    """docs/methodology.md#exclusions: per pupil, year and school, the January headcount (1/0) and the
    permanent exclusions and suspensions that started that year at that school, each exclusion once."""
    e = b.exclusions.select(upn=pl.col("UPN"), laestab=_number("LAESTAB"), census_day=_date("CensusDate"),
                            category=pl.col("Category").str.strip_chars().str.to_uppercase(), start=_date("StartDate"))
    # the same exclusion in two returns: the later census's row
    e = e.sort("census_day", descending=True).unique(["upn", "laestab", "category", "start"], keep="first")

    def year_term(d):
        if d.month >= 8:
            return {"year": d.year, "term": "autumn"}
        return {"year": d.year - 1, "term": "spring" if d <= _easter(d.year) else "summer"}

    e = e.with_columns(yt=pl.col("start").map_elements(year_term, return_dtype=pl.Struct(
        {"year": pl.Int64, "term": pl.String}))).unnest("yt")
    complete = e.group_by("year").agg(pl.col("term").n_unique().alias("n")).filter(pl.col("n") == 3)["year"]
    counts = e.filter(pl.col("year").is_in(complete.implode())).group_by("upn", "year", "laestab").agg(
        permanent=(pl.col("category") == "PERM").sum(), suspensions=pl.col("category").is_in(["SUSP", "FIXD"]).sum())
    roll = spine.filter(pl.col("year").is_in(complete.implode())).select("upn", "year", "laestab", headcount=pl.lit(1))
    both = roll.join(counts, on=["upn", "year", "laestab"], how="full", coalesce=True).with_columns(
        pl.col("headcount", "permanent", "suspensions").fill_null(0))
    return both.join(b.school_types, on="laestab", how="left").with_columns(pl.col("school_type").fill_null("Other"))


# ---------------------------------------------------------------------------------------------
# the pupil-year record, disadvantage and each cohort

def pupil_years(b: Borough) -> pl.DataFrame:
    """docs/methodology.md#pupil-year-record: the January census main enrolment, one per pupil-year."""
    main = b.census.filter(pl.col("enrol").is_in(["C", "M", "F"]))
    autumn_day = b.census.filter(pl.col("term") == "autumn").group_by("year").agg(autumn_day=pl.col("census_date").min())
    moved = main.group_by("upn", "year").agg(moved=pl.col("laestab").n_unique() > 1)
    jan = (main.filter(pl.col("term") == "spring")
           .sort(["entry", "laestab"], descending=[True, False], nulls_last=True)
           .group_by("upn", "year", maintain_order=True).first())
    eth = pl.read_csv(SEEDS / "ethnicity_codes.csv", infer_schema_length=0).select(
        pl.col("ethnicity_code").alias("ethnicity"), pl.col("ethnicity_major_group").alias("major"),
        (pl.col("is_gypsy_roma_traveller") == "true").alias("grt"))
    return (jan.join(autumn_day, on="year", how="left").join(moved, on=["upn", "year"], how="left")
            .join(eth, on="ethnicity", how="left")
            .with_columns(arrived=(pl.col("entry") > pl.col("autumn_day")).fill_null(False),
                          grt=pl.col("grt").fill_null(False))
            .select("upn", "year", "laestab", "nc", "nc_num", "age", "sex", "major", "grt", "language", "sen", "need",
                    "fsm", "arrived", "moved"))


def disadvantage(b: Borough) -> pl.DataFrame:
    """docs/methodology.md#disadvantage-in-pathways: file Ever 6, or census FSM from autumn Y-5 to
    spring Y, or looked after / previously looked after on the file."""
    file = b.pupil_premium.group_by("upn", "year").agg(
        file_ever6=pl.col("ever6").any(), cla=pl.col("cla").any(), plac=pl.col("plac").any())
    years = pl.concat([f.select("year") for f in (b.census, b.pupil_premium) if f.height]).unique()
    fsm = b.census.filter(pl.col("fsm")).select("upn", pl.col("year").alias("fsm_year"), "term").unique()
    window = (fsm.join(years, how="cross")
              .filter((pl.col("fsm_year") >= pl.col("year") - 5) & (pl.col("fsm_year") <= pl.col("year"))
                      & ~((pl.col("fsm_year") == pl.col("year")) & (pl.col("term") == "summer")))
              .select("upn", "year").unique().with_columns(census_ever6=pl.lit(True)))
    both = file.join(window, on=["upn", "year"], how="full", coalesce=True).with_columns(
        on_file=pl.col("file_ever6").is_not_null(),
        file_ever6=pl.col("file_ever6").fill_null(False), census_ever6=pl.col("census_ever6").fill_null(False),
        cla=pl.col("cla").fill_null(False), plac=pl.col("plac").fill_null(False))
    return both.with_columns(disadvantaged=pl.col("file_ever6") | pl.col("census_ever6") | pl.col("cla") | pl.col("plac"))


def eyfs(b: Borough) -> pl.DataFrame:
    """docs/methodology.md#cohort-eyfsp and the eyfs_* measures."""
    e = b.eyfsp
    goal = lambda g: pl.col(f"E{g:02d}") == "2"  # noqa: E731
    return (e.group_by("upn", "year").agg(pl.col("laestab").max(), *[goal(g).any().alias(f"g{g}") for g in range(1, 18)])
            .with_columns(gld=pl.all_horizontal([pl.col(f"g{g}") for g in range(1, 13)]),
                          goals=pl.sum_horizontal([pl.col(f"g{g}").cast(pl.Int64) for g in range(1, 18)]),
                          cl=pl.col("g1") & pl.col("g2"), lit=pl.col("g8") & pl.col("g9") & pl.col("g10")))


def phonics(b: Borough) -> pl.DataFrame:
    """docs/methodology.md#cohort-phonics-year-1: valid result = Wa, Wt, A, D, Q, or a mark without an outcome."""
    p = b.phonics.with_columns(mark=_number("PhonicsMark"), outcome=pl.col("PhonicsOutcome").str.to_uppercase(),
                               nc=pl.col("NCyearActual").str.to_uppercase())
    p = p.group_by("upn", "year").agg(pl.col("laestab").max(), pl.col("nc").max(), pl.col("mark").max(), pl.col("outcome").max())
    return p.with_columns(
        valid=pl.col("outcome").is_in(["WA", "WT", "A", "D", "Q"]).fill_null(False)
        | (pl.col("outcome").is_null() & pl.col("mark").is_not_null()),
        met=(pl.col("mark") >= PHONICS_THRESHOLD).fill_null(False) | (pl.col("outcome") == "WA").fill_null(False))


def phonics_year2(b: Borough, spine: pl.DataFrame) -> pl.DataFrame:
    """docs/methodology.md#cohort-phonics-by-end-of-year-2."""
    p = phonics(b)
    check_years = p.select("year").unique()
    y1 = p.filter((pl.col("nc") == "1") & pl.col("valid")).select("upn", (pl.col("year") + 1).alias("year"),
                                                                   pl.col("met").alias("met1"))
    y2 = p.filter((pl.col("nc") == "2") & pl.col("valid")).select("upn", "year", "laestab", pl.col("met").alias("met2"))
    retook = y2.join(y1, on=["upn", "year"], how="left").select(
        "upn", "year", "laestab", met=pl.col("met2") | pl.col("met1").fill_null(False))
    stayed = (y1.join(y2.select("upn", "year"), on=["upn", "year"], how="anti")
              .join(spine.select("upn", "year", "laestab"), on=["upn", "year"], how="inner")
              .select("upn", "year", "laestab", met=pl.col("met1")))
    return pl.concat([retook, stayed]).join(check_years, on="year", how="semi")


def ks1(b: Borough) -> pl.DataFrame:
    """docs/methodology.md#cohort-ks1: L in reading, writing or maths is not counted."""
    k = b.ks1
    if k.height == 0:
        return pl.DataFrame(schema={"upn": pl.String, "year": pl.Int64, "laestab": pl.Int64, "read": pl.Boolean,
                                    "writ": pl.Boolean, "mat": pl.Boolean, "rwm": pl.Boolean})
    k = k.group_by("upn", "year").agg(pl.col("laestab").max(),
                                      *[pl.col(c).str.to_uppercase().max() for c in ("READ_TA", "WRIT_TA", "MAT_TA")])
    k = k.filter(~pl.any_horizontal([(pl.col(c) == "L").fill_null(False) for c in ("READ_TA", "WRIT_TA", "MAT_TA")]))
    ok = lambda c: pl.col(c).is_in(["EXS", "GDS"]).fill_null(False)  # noqa: E731
    return k.select("upn", "year", "laestab", read=ok("READ_TA"), writ=ok("WRIT_TA"), mat=ok("MAT_TA"),
                    rwm=ok("READ_TA") & ok("WRIT_TA") & ok("MAT_TA"))


def ks2(b: Borough) -> pl.DataFrame:
    """docs/methodology.md#cohort-ks2 and the ks2_* measures."""
    k = b.ks2.group_by("upn", "year").agg(pl.col("laestab").max(), *[pl.col(c).str.to_uppercase().max() for c in
                                                                     ("READ_SCORE", "MAT_SCORE", "GPS_SCORE", "WRIT_TA")])
    k = k.filter((pl.col("READ_SCORE") != "L").fill_null(True) & (pl.col("MAT_SCORE") != "L").fill_null(True))
    k = k.with_columns(r=_number("READ_SCORE"), m=_number("MAT_SCORE"), g=_number("GPS_SCORE"), w=pl.col("WRIT_TA"))
    ge = lambda c, v: (pl.col(c) >= v).fill_null(False)  # noqa: E731
    w_ok = pl.col("w").is_in(["EXS", "GDS"]).fill_null(False)
    return k.with_columns(read=ge("r", 100), mat=ge("m", 100), gps=ge("g", 100), writ=w_ok,
                          rwm=ge("r", 100) & ge("m", 100) & w_ok,
                          higher=ge("r", 110) & ge("m", 110) & (pl.col("w") == "GDS").fill_null(False))


def ks4(b: Borough, spine: pl.DataFrame) -> pl.DataFrame:
    """docs/methodology.md#cohort-ks4 and #ks4_attainment_8: Year 11 on the January census, results matched by pupil."""
    e = b.ks4.with_columns(code=pl.col("SubjectCode").str.to_uppercase(), grade=pl.col("Grade").str.to_uppercase())
    e = e.with_columns(points=pl.when(pl.col("grade") == "U").then(0).otherwise(_number("grade")))
    e = e.filter(pl.col("points").is_between(0, 9) & ((pl.col("grade") == "U") | pl.col("points").is_between(1, 9)))
    e = e.with_columns(pillar=pl.when(pl.col("code") == "COMP").then(pl.lit("Science")).otherwise(pl.col("EBaccPillar").fill_null("")))
    scores: dict[tuple[str, int], dict] = {}
    for (upn, year), rows in e.group_by(["upn", "year"]):
        lang = [p for c, p in zip(rows["code"], rows["points"]) if c == "ENLA"]
        lit = [p for c, p in zip(rows["code"], rows["points"]) if c == "ENLI"]
        maths = [p for c, p in zip(rows["code"], rows["points"]) if c == "MATH"]
        eng = [max(lang)] if lang else []
        eng += [max(lit)] if lit else []
        best = max(eng) if eng else None
        weight = 2 if len(eng) == 2 else 1
        other_english = [min(eng)] if len(eng) == 2 else []
        m = max(maths) if maths else None
        rest = [(c, p, pil) for c, p, pil in zip(rows["code"], rows["points"], rows["pillar"]) if c not in ("ENLA", "ENLI", "MATH")]
        ebacc = sorted((p for _, p, pil in rest if pil in ("Science", "Humanities", "Languages")), reverse=True)
        open_pool = sorted(ebacc[3:] + [p for _, p, pil in rest if pil not in ("Science", "Humanities", "Languages")]
                           + other_english, reverse=True)
        a8 = (best or 0) * weight + 2 * (m or 0) + sum(ebacc[:3]) + sum(open_pool[:3])
        science = sorted((p for _, p, pil in rest if pil == "Science"), reverse=True)[:2]
        hum = max((p for _, p, pil in rest if pil == "Humanities"), default=0)
        lan = max((p for _, p, pil in rest if pil == "Languages"), default=0)
        scores[(upn, year)] = dict(a8=a8, english=best or 0, maths=m or 0,
                                   basics4=best is not None and m is not None and best >= 4 and m >= 4,
                                   basics5=best is not None and m is not None and best >= 5 and m >= 5,
                                   aps=((best or 0) + (m or 0) + sum(science) + hum + lan) / 6)
    years = b.ks4.select("year").unique()
    cohort = spine.filter(pl.col("nc_num") == 11).join(years, on="year", how="semi").select("upn", "year", "laestab")
    rows = []
    for upn, year, laestab in cohort.iter_rows():
        s = scores.get((upn, year), dict(a8=0, english=0, maths=0, basics4=False, basics5=False, aps=0.0))
        rows.append(dict(upn=upn, year=year, laestab=laestab, **s))
    return pl.DataFrame(rows, schema={"upn": pl.String, "year": pl.Int64, "laestab": pl.Int64, "a8": pl.Float64,
                                      "english": pl.Float64, "maths": pl.Float64, "basics4": pl.Boolean,
                                      "basics5": pl.Boolean, "aps": pl.Float64})


def local_progress(k4: pl.DataFrame, k2: pl.DataFrame) -> pl.DataFrame:
    """docs/methodology.md#ks4_local_progress_8."""
    prior = k2.filter(pl.col("r").is_not_null() & pl.col("m").is_not_null()).select(
        "upn", (pl.col("year") + 5).alias("year"), group=((pl.col("r") + pl.col("m")) / 2).floor())
    linked = k4.join(prior, on=["upn", "year"], how="inner")
    est = linked.group_by("year", "group").agg(estimate=pl.col("a8").mean())
    return linked.join(est, on=["year", "group"]).with_columns(lp8=(pl.col("a8") - pl.col("estimate")) / 10)


def attendance(b: Borough) -> pl.DataFrame:
    """docs/methodology.md#population-attendance: enrolments with possible sessions, sessions summed over terms."""
    a = b.attendance.group_by("upn", "laestab", "year").agg(
        pl.col("possible", "authorised", "unauthorised").sum(), age=pl.col("age").max())
    return a.filter(pl.col("possible") > 0).with_columns(
        absent=pl.col("authorised") + pl.col("unauthorised"),
        in_population=pl.col("age").is_between(60, 191).fill_null(False))


def attendance_time_identifiers(b: Borough) -> dict[int, str]:
    """docs/methodology.md#attendance-terms."""
    out = {}
    for (year,), t in b.attendance.group_by(["year"]):
        terms = set(t["term"].unique().to_list())
        out[year] = {frozenset({"autumn", "spring", "summer"}): "Academic year",
                     frozenset({"autumn", "spring"}): "Autumn and spring term", frozenset({"autumn"}): "Autumn term",
                     frozenset({"spring"}): "Spring term", frozenset({"summer"}): "Summer term",
                     frozenset({"autumn", "summer"}): "Autumn and summer term",
                     frozenset({"spring", "summer"}): "Spring and summer term"}[frozenset(terms)]
    return out


# ---------------------------------------------------------------------------------------------
# the measures (docs/methodology.md#measures) as pupil rows: numerator and denominator each

def pupil_rows(b: Borough) -> tuple[pl.DataFrame, dict]:
    """One row per pupil (enrolment, for attendance), year and measure, with the school it counts at."""
    spine = pupil_years(b)
    dis = disadvantage(b)
    spine_d = spine.join(dis.select("upn", "year", "disadvantaged"), on=["upn", "year"], how="left").with_columns(
        pl.col("disadvantaged").fill_null(False))
    e, p, k1, k2, k4, att = eyfs(b), phonics(b), ks1(b), ks2(b), ks4(b, spine), attendance(b)
    p2 = phonics_year2(b, spine)
    lp = local_progress(k4, k2)
    rows = []

    def add(frame, measure, stage, mtype, num, den=pl.lit(1.0), where=pl.lit(True)):
        # home_lc: a measure counted by the community of the child's home, not of a school
        home = pl.col("home_lc") if "home_lc" in frame.columns else pl.lit(None, pl.String)
        rows.append(frame.filter(where).select(
            "upn", pl.col("year").cast(pl.Int64), pl.col("laestab").cast(pl.Int64), measure=pl.lit(measure),
            stage=pl.lit(stage), measure_type=pl.lit(mtype), numerator=(num.cast(pl.Float64)),
            denominator=den.cast(pl.Float64), home_lc=home))

    r_to_11 = pl.col("nc_num").is_between(0, 11).fill_null(False)
    add(spine_d, "pupils_on_roll", "census", "count", pl.lit(1))
    add(spine_d, "disadvantaged_pupils", "census", "percentage", pl.col("disadvantaged"), where=r_to_11)
    add(spine_d, "fsm_eligible_pupils", "census", "percentage", pl.col("fsm"), where=r_to_11)
    add(spine_d, "sen_support_pupils", "census", "percentage", pl.col("sen") == "K")
    add(spine_d, "ehc_plan_pupils", "census", "percentage", pl.col("sen") == "E")
    eal = (~pl.col("language").is_in(["ENG", "ENB", "NOT"]) & pl.col("language").is_not_null())
    add(spine_d, "eal_pupils", "census", "percentage", eal, where=(pl.col("age") >= 60).fill_null(False))
    add(spine_d, "arrived_after_autumn_census", "census", "percentage", pl.col("arrived"))
    add(spine_d, "moved_school_in_year", "census", "percentage", pl.col("moved"))
    add(e, "eyfs_good_level_of_development", "eyfs", "percentage", pl.col("gld"))
    add(e, "eyfs_average_goals_at_expected", "eyfs", "average", pl.col("goals"))
    add(e, "eyfs_communication_language_expected", "eyfs", "percentage", pl.col("cl"))
    add(e, "eyfs_literacy_expected", "eyfs", "percentage", pl.col("lit"))
    add(p, "phonics_y1_met", "phonics", "percentage", pl.col("met"), where=(pl.col("nc") == "1") & pl.col("valid"))
    add(p2, "phonics_by_end_of_y2_met", "phonics", "percentage", pl.col("met"))
    for m, c in (("reading", "read"), ("writing", "writ"), ("maths", "mat"), ("rwm", "rwm")):
        add(k1, f"ks1_{m}_expected", "ks1", "percentage", pl.col(c))
    add(k2, "ks2_rwm_expected", "ks2", "percentage", pl.col("rwm"))
    add(k2, "ks2_rwm_higher", "ks2", "percentage", pl.col("higher"))
    for m, c in (("reading", "read"), ("writing", "writ"), ("maths", "mat"), ("gps", "gps")):
        add(k2, f"ks2_{m}_expected", "ks2", "percentage", pl.col(c))
    add(k2, "ks2_reading_average_scaled_score", "ks2", "average", pl.col("r"), where=pl.col("r").is_not_null())
    add(k2, "ks2_maths_average_scaled_score", "ks2", "average", pl.col("m"), where=pl.col("m").is_not_null())
    add(k4, "ks4_attainment_8", "ks4", "average", pl.col("a8"))
    add(k4, "ks4_basics_grade_4", "ks4", "percentage", pl.col("basics4"))
    add(k4, "ks4_basics_grade_5", "ks4", "percentage", pl.col("basics5"))
    add(k4, "ks4_ebacc_average_point_score", "ks4", "average", pl.col("aps"))
    add(lp, "ks4_local_progress_8", "ks4", "average", pl.col("lp8"))
    pop = pl.col("in_population")
    add(att, "overall_absence_rate", "attendance", "rate", pl.col("absent"), pl.col("possible"), pop)
    add(att, "authorised_absence_rate", "attendance", "rate", pl.col("authorised"), pl.col("possible"), pop)
    add(att, "unauthorised_absence_rate", "attendance", "rate", pl.col("unauthorised"), pl.col("possible"), pop)
    add(att, "persistent_absence", "attendance", "percentage", pl.col("absent") >= PERSISTENT * pl.col("possible"), where=pop)
    add(att, "severe_absence", "attendance", "percentage", pl.col("absent") >= SEVERE * pl.col("possible"), where=pop)
    if b.exclusions is not None and b.exclusions.height:
        ex = exclusion_pupils(b, spine)
        for suffix, types in (("", ["Primary", "Secondary", "Special"]), ("_primary", ["Primary"]),
                              ("_secondary", ["Secondary"])):
            where = pl.col("school_type").is_in(types)
            add(ex, f"permanent_exclusion_rate{suffix}", "exclusions", "rate", pl.col("permanent"), pl.col("headcount"), where)
            add(ex, f"suspension_rate{suffix}", "exclusions", "rate", pl.col("suspensions"), pl.col("headcount"), where)
            add(ex, f"one_plus_suspension_rate{suffix}", "exclusions", "rate", pl.col("suspensions") > 0,
                pl.col("headcount"), where)
    y = None
    if b.post16 is not None and b.post16.height:
        y = post16_pupils(b)
        in_djf = pl.col("cohort_months") > 0
        add(y, "neet_or_not_known_16_17", "post16", "rate", pl.col("neet_months") + pl.col("nk_months"),
            pl.col("cohort_months"), in_djf)
        add(y, "neet_16_17", "post16", "rate", pl.col("neet_months"), pl.col("cohort_months"), in_djf)
        add(y, "activity_not_known_16_17", "post16", "rate", pl.col("nk_months"), pl.col("cohort_months"), in_djf)
        add(y, "participation_16_17", "post16", "percentage", pl.col("participating"), where=pl.col("march"))
    if b.early_years is not None:
        two = two_year_olds(b)
        add(two, "two_year_old_take_up", "early_education", "percentage", pl.col("took_up"))
        # EYFS outcomes of the eligible: matched on the UPN, counted where the EYFSP is (as every EYFS measure)
        ever = two.group_by("upn").agg(took_up_at_two=pl.col("took_up").any())
        followed = e.join(ever, on="upn", how="inner")
        add(followed, "eyfs_gld_took_up_two_year_place", "early_education", "percentage", pl.col("gld"),
            where=pl.col("took_up_at_two"))
        add(followed, "eyfs_gld_eligible_not_taken_up", "early_education", "percentage", pl.col("gld"),
            where=~pl.col("took_up_at_two"))
    parts = dict(spine=spine, dis=dis, eyfs=e, phonics=p, phonics_y2=p2, ks1=k1, ks2=k2, ks4=k4, attendance=att, post16=y)
    return pl.concat(rows, how="diagonal"), parts


def subgroups(spine: pl.DataFrame, dis: pl.DataFrame, pupil_year_keys: pl.DataFrame) -> pl.DataFrame:
    """docs/methodology.md#breakdowns: each pupil-year's subgroup in every breakdown (long)."""
    t = (pupil_year_keys.join(spine.with_columns(on=pl.lit(True)), on=["upn", "year"], how="left")
         .join(dis.select("upn", "year", "disadvantaged"), on=["upn", "year"], how="left")
         .with_columns(on=pl.col("on").fill_null(False), disadvantaged=pl.col("disadvantaged").fill_null(False)))
    unc = pl.lit("Unclassified")
    on = pl.col("on")
    cols = {
        TOTAL: pl.lit(TOTAL),
        "Disadvantage": pl.when(pl.col("disadvantaged")).then(pl.lit(DIS)).otherwise(pl.lit(OTHER)),
        "SEN provision": pl.when(~on).then(unc).when(pl.col("sen") == "E").then(pl.lit("EHC plan"))
        .when(pl.col("sen") == "K").then(pl.lit("SEN support")).otherwise(pl.lit("No SEN")),
        "SEN primary need": pl.when(~on).then(unc).when(pl.col("sen").is_in(["E", "K"]))
        .then(pl.col("need").fill_null("Not recorded")).otherwise(pl.lit("No SEN")),
        "First language": pl.when(~on | pl.col("language").is_null() | (pl.col("language") == "NOT")).then(unc)
        .when(pl.col("language").is_in(["ENG", "ENB"])).then(pl.lit("Known or believed to be English"))
        .otherwise(pl.lit("Known or believed to be other than English")),
        "Sex": pl.when(on & (pl.col("sex") == "M")).then(pl.lit("Male")).when(on & (pl.col("sex") == "F"))
        .then(pl.lit("Female")).otherwise(unc),
        "Ethnicity major group": pl.when(on).then(pl.col("major").fill_null("Unclassified")).otherwise(unc),
        "Gypsy, Roma and Traveller": pl.when(~on).then(unc).when(pl.col("grt")).then(pl.lit("Gypsy, Roma or Traveller"))
        .otherwise(pl.lit("Not Gypsy, Roma or Traveller")),
        "Mobility": pl.when(~on).then(unc).when(pl.col("arrived") | pl.col("moved")).then(pl.lit("Mobile"))
        .otherwise(pl.lit("Stable")),
    }
    return pl.concat([t.select("upn", "year", breakdown=pl.lit(k), subgroup=v) for k, v in cols.items()])


def _geographies(rows: pl.DataFrame | pl.LazyFrame, schools: pl.DataFrame, keys: list[str], aggs: list[pl.Expr],
                 school: str = "laestab") -> pl.DataFrame:
    """Each learning community (pupils at its schools) and each authority (all its pupils)."""
    # lazily, so only the grouped figures are ever held (the pupil rows can be millions)
    r = rows.lazy().join(schools.rename({"laestab": school}).lazy(), on=school, how="left").with_columns(
        old_la_code=(pl.col(school) // 10000).cast(pl.String))
    if "home_lc" in r.columns:  # docs/methodology.md#funded-early-education: counted where the child lives
        r = r.with_columns(lc=pl.coalesce("home_lc", "lc")).drop("home_lc")
    lc = r.filter(pl.col("lc").is_not_null()).group_by(*keys, "old_la_code", "lc").agg(aggs).with_columns(
        geographic_level=pl.lit(LC_LEVEL))
    la = r.group_by(*keys, "old_la_code").agg(aggs).with_columns(geographic_level=pl.lit(LA_LEVEL), lc=pl.lit(None, pl.String))
    lc, la = pl.collect_all([lc, la])
    return pl.concat([lc, la.select(lc.columns)])


def measure_info() -> pl.DataFrame:
    """Type, direction and decimals of each measure, from the measures seed the methodology lists."""
    m = pl.read_csv(SEEDS / "measures.csv", infer_schema_length=0)
    return m.select("measure", "measure_type", higher_is_better=pl.col("higher_is_better").replace({"": None})
                    .replace_strict({"true": True, "false": False, None: None}, default=None, return_dtype=pl.Boolean),
                    decimals=pl.col("decimals").cast(pl.Int64))


def _value(mtype: str, num: float, den: float) -> float | None:
    if mtype in ("percentage", "rate"):
        return 100 * num / den if den else None
    if mtype == "count":
        return num
    return num / den if den else None


# docs/methodology.md#breakdowns-published-for-learning-communities (the defaults)
COMMUNITY_BREAKDOWNS = ("Disadvantage", "SEN provision", "Sex", "First language")
COMMUNITY_TOTALS_ONLY = ("permanent_exclusion_rate", "permanent_exclusion_rate_primary", "permanent_exclusion_rate_secondary")


def published_breakdowns(out: pl.DataFrame) -> pl.DataFrame:
    """docs/methodology.md#breakdowns: learning communities get the community breakdowns (and only
    the Total of the totals-only measures); a breakdown in which all the authority's pupils fall in
    one subgroup repeats the Total and is not published."""
    lc, total = pl.col("geographic_level") == LC_LEVEL, pl.col("breakdown") == TOTAL
    out = out.filter(~lc | total | (pl.col("breakdown").is_in(COMMUNITY_BREAKDOWNS)
                                    & ~pl.col("measure").is_in(COMMUNITY_TOTALS_ONLY)))
    one = (out.filter((pl.col("geographic_level") == LA_LEVEL) & ~total)
           .group_by("year", "old_la_code", "measure", "breakdown").agg(pl.col("subgroup").n_unique().alias("_n"))
           .filter(pl.col("_n") == 1))
    return out.join(one, on=["year", "old_la_code", "measure", "breakdown"], how="anti")


def outcomes(b: Borough) -> tuple[pl.DataFrame, dict]:
    """learning_community_outcomes, recomputed."""
    rows, parts = pupil_rows(b)
    keys = rows.select("upn", "year").unique()
    sub = subgroups(parts["spine"], parts["dis"], keys)
    # one breakdown at a time: every pupil row joined to all nine breakdowns at once is ~90 million rows
    # at borough size (more than the machine's memory); the figures are the same
    out = pl.concat([
        _geographies(rows.lazy().join(part.lazy(), on=["upn", "year"], how="inner"), b.schools,
                     ["year", "stage", "measure", "measure_type", "breakdown", "subgroup"],
                     [pl.col("numerator").sum(), pl.col("denominator").sum(), pl.len().alias("pupils")])
        for _, part in sub.group_by("breakdown", maintain_order=True)])
    tf = three_four_year_olds(b)
    if tf is not None:  # over a resident population: Total only, not pupil rows
        out = pl.concat([out, tf.select(out.columns).cast(dict(out.schema))])
    out = published_breakdowns(out)
    tid = attendance_time_identifiers(b)
    out = out.with_columns(
        time_identifier=pl.when(pl.col("stage") == "attendance")
        .then(pl.col("year").replace_strict(tid, default="Academic year", return_dtype=pl.String))
        .otherwise(pl.lit("Academic year")),
        value=pl.struct("measure_type", "numerator", "denominator").map_elements(
            lambda s: _value(s["measure_type"], s["numerator"], s["denominator"]), return_dtype=pl.Float64))
    return out, parts


# ---------------------------------------------------------------------------------------------
# gaps, gap index, trends (docs/methodology.md#disadvantage-gap ... #gap-trends)

def gaps(out: pl.DataFrame) -> pl.DataFrame:
    info = measure_info().filter(pl.col("higher_is_better").is_not_null())
    d = out.filter(pl.col("breakdown") == "Disadvantage").join(info.select("measure", "higher_is_better"), on="measure")
    keys = ["year", "time_identifier", "geographic_level", "old_la_code", "lc", "stage", "measure", "measure_type",
            "higher_is_better"]
    g = d.group_by(keys).agg(
        *[pl.col(c).filter(pl.col("subgroup") == s).sum().alias(f"{p}_{n}") for p, s in (("dis", DIS), ("oth", OTHER))
          for c, n in (("numerator", "num"), ("denominator", "den"), ("pupils", "pupils"))])
    g = g.sort("year").with_columns(
        *[pl.col(f"{p}_{n}").rolling_sum(ROLLING_YEARS, min_samples=1).over(["geographic_level", "old_la_code", "lc", "measure"])
          .alias(f"r_{p}_{n}") for p in ("dis", "oth") for n in ("num", "den", "pupils")],
        rolling_years=(pl.int_range(1, pl.len() + 1).over(["geographic_level", "old_la_code", "lc", "measure"])
                       .clip(upper_bound=ROLLING_YEARS)))
    nat = pl.read_csv(SEEDS / "national_benchmarks.csv", infer_schema_length=0).with_columns(
        pl.col("time_period").cast(pl.Int64), pl.col("value").cast(pl.Float64))
    nat = nat.group_by("time_period", "measure").agg(
        nat_dis=pl.col("value").filter(pl.col("subgroup") == DIS).first(),
        nat_oth=pl.col("value").filter(pl.col("subgroup") == OTHER).first())
    g = g.with_columns(time_period=pl.col("year") * 100 + (pl.col("year") + 1) % 100).join(nat, on=["time_period", "measure"], how="left")

    def val(num, den):
        return pl.when(pl.col(den) > 0).then(
            pl.when(pl.col("measure_type").is_in(["percentage", "rate"])).then(100 * pl.col(num) / pl.col(den))
            .otherwise(pl.col(num) / pl.col(den)))

    sign = pl.when(pl.col("higher_is_better")).then(1).otherwise(-1)
    return g.with_columns(dis_value=val("dis_num", "dis_den"), oth_value=val("oth_num", "oth_den"),
                          r_dis_value=val("r_dis_num", "r_dis_den"), r_oth_value=val("r_oth_num", "r_oth_den")).with_columns(
        gap=sign * (pl.col("oth_value") - pl.col("dis_value")), rolling_gap=sign * (pl.col("r_oth_value") - pl.col("r_dis_value")),
        national_gap=sign * (pl.col("nat_oth") - pl.col("nat_dis"))).with_columns(
        gap_against_national=pl.col("gap") - pl.col("national_gap"))


def gap_index(b: Borough, parts: dict) -> pl.DataFrame:
    """docs/methodology.md#gap-index-method: mean-rank index within each authority."""
    dis = parts["dis"].select("upn", "year", "disadvantaged")
    k2 = parts["ks2"].filter(pl.col("r").is_not_null() & pl.col("m").is_not_null())
    scores = pl.concat([
        k2.select("upn", "year", "laestab", stage=pl.lit("ks2"), subject=pl.lit("reading"), score=pl.col("r").cast(pl.Float64)),
        k2.select("upn", "year", "laestab", stage=pl.lit("ks2"), subject=pl.lit("maths"), score=pl.col("m").cast(pl.Float64)),
        parts["ks4"].select("upn", "year", "laestab", stage=pl.lit("ks4"), subject=pl.lit("english_and_maths"),
                            score=pl.col("english") + pl.col("maths")),
    ]).join(dis, on=["upn", "year"], how="left").with_columns(pl.col("disadvantaged").fill_null(False),
                                                              la=(pl.col("laestab") // 10000))
    part = ["year", "la", "stage", "subject"]
    scores = scores.with_columns(pct=pl.col("score").rank("average").over(part) / pl.len().over(part))
    geo = _geographies(scores, b.schools, ["year", "stage", "subject"], [
        pl.col("disadvantaged").sum().alias("n_d"), (~pl.col("disadvantaged")).sum().alias("n_o"),
        pl.col("pct").filter(pl.col("disadvantaged")).mean().alias("m_d"),
        pl.col("pct").filter(~pl.col("disadvantaged")).mean().alias("m_o")])
    geo = geo.with_columns(index=20 * (pl.col("m_o") - pl.col("m_d")))
    out = geo.group_by("year", "stage", "geographic_level", "old_la_code", "lc").agg(
        pl.col("n_d").min(), pl.col("n_o").min(), pl.col("m_d").mean(), pl.col("m_o").mean(), pl.col("index").mean())
    nat = pl.read_csv(SEEDS / "national_gap_index.csv", infer_schema_length=0).select(
        pl.col("time_period").cast(pl.Int64), "stage", national=pl.col("gap_index").cast(pl.Float64))
    out = out.with_columns(time_period=pl.col("year") * 100 + (pl.col("year") + 1) % 100)
    return out.join(nat, on=["time_period", "stage"], how="left")


def wilson(x: float, n: float) -> tuple[float, float]:
    p = x / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


def _variance(p: float, n: float, mtype: str) -> float:
    """docs/methodology.md#trend-slope: a year's sampling variance, binomial for a percentage, Poisson for a rate."""
    return p / n if mtype == "rate" else p * (1 - p) / n


def _least_squares(t: list[int], g: list[float], v: list[float]) -> tuple[float, float, float, str]:
    """docs/methodology.md#trend-slope: slope, the wider interval's bounds and which interval that was."""
    k = len(t)
    tm, gm = sum(t) / k, sum(g) / k
    sxx = sum((x - tm) ** 2 for x in t)
    slope = sum((x - tm) * (y - gm) for x, y in zip(t, g)) / sxx
    h_s = Z * math.sqrt(sum((x - tm) ** 2 * vv for x, vv in zip(t, v))) / sxx
    rss = sum((y - gm - slope * (x - tm)) ** 2 for x, y in zip(t, g))
    h_r = (T975[k - 3] if k - 2 <= 30 else Z) * math.sqrt(rss / (k - 2) / sxx)
    h = max(h_s, h_r)
    return slope, slope - h, slope + h, "year-to-year scatter" if h_r > h_s else "sampling variation"


def trend(series: list[dict], higher_is_better: bool, mtype: str = "percentage") -> dict:
    """docs/methodology.md#gap-trends for one geography and measure; ``series`` holds each full year's
    year, dis_num, dis_den, oth_num, oth_den (and national_gap, optional), any order. None if under 3 years.
    Also the trend of the measure's figure over both groups together (value_*)."""
    s = sorted((r for r in series if r["dis_den"] > 0 and r["oth_den"] > 0), key=lambda r: r["year"])[-TREND_YEARS:]
    k = len(s)
    if k < 3:
        return None
    sign = 1 if higher_is_better else -1
    t = [r["year"] for r in s]
    po = [r["oth_num"] / r["oth_den"] for r in s]
    pd = [r["dis_num"] / r["dis_den"] for r in s]
    g = [100 * sign * (o - d) for o, d in zip(po, pd)]
    v = [1e4 * (_variance(o, r["oth_den"], mtype) + _variance(d, r["dis_den"], mtype)) for o, d, r in zip(po, pd, s)]
    slope, lower, upper, basis = _least_squares(t, g, v)
    # the figure itself, every pupil of the two groups
    nt = [r["oth_den"] + r["dis_den"] for r in s]
    pt = [(r["oth_num"] + r["dis_num"]) / n for r, n in zip(s, nt)]
    v_slope, v_lower, v_upper, v_basis = _least_squares(t, [100 * p for p in pt],
                                                        [1e4 * _variance(p, n, mtype) for p, n in zip(pt, nt)])
    f, last = s[0], s[-1]
    # Newcombe / MOVER for the change between the end years (docs/methodology.md#trend-change-interval)
    change = g[-1] / 100 - g[0] / 100
    below = above = None  # Wilson's interval is for a proportion of pupils: none for an event rate
    if mtype == "percentage":
        props = {}
        for name, r in (("1", f), ("2", last)):
            for grp in ("dis", "oth"):
                x, n = r[f"{grp}_num"], r[f"{grp}_den"]
                lo, hi = wilson(x, n)
                props[grp + name] = (x / n, lo, hi)
        plus = ["oth2", "dis1"] if sign == 1 else ["dis2", "oth1"]
        minus = ["dis2", "oth1"] if sign == 1 else ["oth2", "dis1"]
        below = math.sqrt(sum((props[p][0] - props[p][1]) ** 2 for p in plus) + sum((props[p][2] - props[p][0]) ** 2 for p in minus))
        above = math.sqrt(sum((props[p][2] - props[p][0]) ** 2 for p in plus) + sum((props[p][0] - props[p][1]) ** 2 for p in minus))
    out = dict(first_year=f["year"], last_year=last["year"], years=k, first_gap=g[0], last_gap=g[-1],
               change=100 * change, change_lower=None if below is None else 100 * (change - below),
               change_upper=None if above is None else 100 * (change + above),
               slope=slope, lower=lower, upper=upper, basis=basis,
               trend="narrowing" if upper < 0 else "widening" if lower > 0 else "no clear change",
               first_value=100 * pt[0], last_value=100 * pt[-1], value_slope=v_slope, value_lower=v_lower,
               value_upper=v_upper, value_basis=v_basis,
               value_trend="falling" if v_upper < 0 else "rising" if v_lower > 0 else "no clear change",
               national_change=None, national_per_year=None, compared=None,
               first=f, last=last)
    n1, n2 = f.get("national_gap"), last.get("national_gap")
    if n1 is not None and n2 is not None:
        per_year = (n2 - n1) / (last["year"] - f["year"])
        out.update(national_change=n2 - n1, national_per_year=per_year,
                   compared="better than the national trend" if upper < per_year else
                   "worse than the national trend" if lower > per_year else "no clear difference from the national trend")
    return out


# docs/methodology.md#gap-trends: rates counted in events or months of a person have trends; absence rates do not
EVENT_RATE_STAGES = ("exclusions", "post16")


def trends(g: pl.DataFrame) -> list[dict]:
    kind = pl.col("measure_type")
    full = g.filter(((kind == "percentage") | ((kind == "rate") & pl.col("stage").is_in(EVENT_RATE_STAGES)))
                    & (pl.col("time_identifier") == "Academic year"))
    out = []
    # docs/methodology.md#rounding-on-publication: the national gap is published to the measure's places
    places = dict(measure_info().select("measure", "decimals").iter_rows())
    for key, part in full.group_by(["geographic_level", "old_la_code", "lc", "measure"]):
        series = [dict(year=r["year"], dis_num=r["dis_num"], dis_den=r["dis_den"], oth_num=r["oth_num"], oth_den=r["oth_den"],
                       national_gap=None if r["national_gap"] is None else round(r["national_gap"], places[key[3]]))
                  for r in part.iter_rows(named=True)]
        t = trend(series, part["higher_is_better"][0], part["measure_type"][0])
        if t is not None:
            out.append(dict(zip(["geographic_level", "old_la_code", "lc", "measure"], key)) | t)
    return out


# ---------------------------------------------------------------------------------------------
# cohort journeys (docs/methodology.md#cohort-journeys-and-transitions) and data-quality counts

STAGES = [("eyfs", 1, 0), ("phonics", 2, 1), ("ks1", 3, 2), ("ks2", 4, 6), ("ks4", 5, 11), ("age17", 8, 13)]


def stage_results(parts: dict) -> pl.DataFrame:
    frames = {
        "eyfs": parts["eyfs"].select("upn", "year", "laestab", expected="gld"),
        "phonics": parts["phonics"].filter((pl.col("nc") == "1") & pl.col("valid")).select("upn", "year", "laestab", expected="met"),
        "ks1": parts["ks1"].select("upn", "year", "laestab", expected="rwm"),
        "ks2": parts["ks2"].select("upn", "year", "laestab", expected="rwm"),
        "ks4": parts["ks4"].select("upn", "year", "laestab", expected="basics4"),
    }
    # docs/methodology.md#cohort-stage-age-17: academic age 17, tracked at the end of March
    y = parts.get("post16")
    frames["age17"] = (pl.DataFrame(schema={"upn": pl.String, "year": pl.Int64, "laestab": pl.Int64, "expected": pl.Boolean})
                       if y is None else y.filter((pl.col("age") == 17) & pl.col("march"))
                       .select("upn", "year", "laestab", expected="eet"))
    dis = parts["dis"].select("upn", "year", "disadvantaged")
    return pl.concat([f.with_columns(stage=pl.lit(s), stage_order=pl.lit(o), reception_year=pl.col("year") - off)
                      for (s, o, off) in STAGES for f in [frames[s]]]).join(dis, on=["upn", "year"], how="left").with_columns(
        pl.col("disadvantaged").fill_null(False))


def _with_subgroups(frame: pl.DataFrame, dis_col: str = "disadvantaged") -> pl.DataFrame:
    return pl.concat([frame.with_columns(subgroup=pl.lit(TOTAL)),
                      frame.with_columns(subgroup=pl.when(pl.col(dis_col)).then(pl.lit(DIS)).otherwise(pl.lit(OTHER)))])


def cohort_stages(b: Borough, parts: dict) -> pl.DataFrame:
    s = _with_subgroups(stage_results(parts))
    return _geographies(s, b.schools, ["reception_year", "year", "stage", "subgroup"],
                        [pl.col("expected").sum().alias("numerator"), pl.len().alias("denominator")])


def transitions(b: Borough, parts: dict) -> pl.DataFrame:
    s = stage_results(parts).join(b.schools, on="laestab", how="left")
    a = s.select("upn", "reception_year", "laestab", "lc", "disadvantaged", "stage_order", from_stage="stage", before="expected")
    later = s.select("upn", to_stage="stage", to_order="stage_order", to_year="year", after="expected", to_lc="lc")
    pairs = a.join(later, on="upn").filter(pl.col("stage_order") < pl.col("to_order")).with_columns(
        stayed=(pl.col("lc") == pl.col("to_lc")).fill_null(False)).drop("lc")
    pairs = _with_subgroups(pairs)
    return _geographies(pairs, b.schools, ["reception_year", "from_stage", "to_stage", "to_year", "subgroup"], [
        pl.len().alias("pupils_tracked"), (~pl.col("before")).sum().alias("below_expected_before"),
        (~pl.col("before") & pl.col("after")).sum().alias("caught_up"), pl.col("before").sum().alias("at_expected_before"),
        (pl.col("before") & ~pl.col("after")).sum().alias("fell_behind"), pl.col("stayed").sum().alias("stayed_in_community")])


def data_quality(b: Borough, parts: dict) -> pl.DataFrame:
    """docs/methodology.md#data-quality-counts."""
    spine, dis = parts["spine"], parts["dis"]
    att = parts["attendance"]
    members = pl.concat([
        spine.select("upn", "year", "laestab", cohort=pl.lit("census"), uses=pl.col("nc_num").is_between(0, 11).fill_null(False)),
        parts["eyfs"].select("upn", "year", "laestab", cohort=pl.lit("eyfs"), uses=pl.lit(True)),
        parts["phonics"].filter((pl.col("nc") == "1") & pl.col("valid")).select(
            "upn", "year", "laestab", cohort=pl.lit("phonics_y1"), uses=pl.lit(True)),
        parts["phonics_y2"].select("upn", "year", "laestab", cohort=pl.lit("phonics_y2"), uses=pl.lit(True)),
        parts["ks1"].select("upn", "year", "laestab", cohort=pl.lit("ks1"), uses=pl.lit(True)),
        parts["ks2"].select("upn", "year", "laestab", cohort=pl.lit("ks2"), uses=pl.lit(True)),
        parts["ks4"].select("upn", "year", "laestab", cohort=pl.lit("ks4"), uses=pl.lit(True)),
        att.filter("in_population").select("upn", "year", "laestab", cohort=pl.lit("attendance"), uses=pl.lit(True)),
    ])
    on_spine = spine.select("upn", "year")
    checks = []
    year_groups = {"eyfs": 0, "phonics_y1": 1, "phonics_y2": 2, "ks1": 2, "ks2": 6}
    cohort_years = members.select("cohort", "year").unique()
    for cohort, nc in year_groups.items():
        m = members.filter(pl.col("cohort") == cohort)
        checks.append(m.join(on_spine, on=["upn", "year"], how="anti").select(
            "upn", "year", "laestab", cohort=pl.lit(cohort), check_code=pl.lit("results_not_on_january_census")))
        census_pupils = spine.filter(pl.col("nc_num") == nc).join(
            cohort_years.filter(pl.col("cohort") == cohort).select("year"), on="year", how="semi")
        missing = census_pupils.join(m, on=["upn", "year"], how="anti")
        if cohort == "phonics_y1":
            missing = missing.join(parts["phonics"].filter(pl.col("nc") == "1"), on=["upn", "year"], how="anti")
        checks.append(missing.select("upn", "year", "laestab", cohort=pl.lit(cohort), check_code=pl.lit("january_census_no_result")))
    p = parts["phonics"]
    checks.append(p.filter((pl.col("nc") == "1") & ~pl.col("valid")).select(
        "upn", "year", "laestab", cohort=pl.lit("phonics_y1"), check_code=pl.lit("no_valid_result")))
    y2_years = cohort_years.filter(pl.col("cohort") == "phonics_y2").select("year")
    left = (p.filter((pl.col("nc") == "1") & pl.col("valid")).with_columns(pl.col("year") + 1)
            .join(y2_years, on="year", how="semi").join(members.filter(pl.col("cohort") == "phonics_y2"), on=["upn", "year"], how="anti"))
    checks.append(left.select("upn", "year", "laestab", cohort=pl.lit("phonics_y2"),
                              check_code=pl.lit("year1_result_not_on_january_census")))
    k4_results = b.ks4.group_by("upn", "year").agg(pl.col("laestab").max())
    k4 = members.filter(pl.col("cohort") == "ks4")
    checks.append(k4_results.join(k4, on=["upn", "year"], how="anti").select(
        "upn", "year", "laestab", cohort=pl.lit("ks4"), check_code=pl.lit("results_not_in_cohort")))
    checks.append(k4.join(k4_results, on=["upn", "year"], how="anti").select(
        "upn", "year", "laestab", cohort=pl.lit("ks4"), check_code=pl.lit("cohort_no_results")))
    checks.append(att.filter(pl.col("age").is_null()).select("upn", "year", "laestab", cohort=pl.lit("attendance"),
                                                             check_code=pl.lit("age_not_known")))
    checks.append(members.filter(pl.col("cohort") == "attendance").join(on_spine, on=["upn", "year"], how="anti").select(
        "upn", "year", "laestab", "cohort", check_code=pl.lit("not_on_january_census")))
    e6 = members.filter("uses").join(dis, on=["upn", "year"], how="inner").filter(pl.col("file_ever6") != pl.col("census_ever6"))
    checks.append(e6.select("upn", "year", "laestab", "cohort", check_code=pl.when(pl.col("census_ever6") & ~pl.col("on_file"))
                            .then(pl.lit("ever6_census_only_not_on_file")).when(pl.col("census_ever6"))
                            .then(pl.lit("ever6_census_only_file_unflagged")).otherwise(pl.lit("ever6_file_only"))))
    flagged = pl.concat(checks)
    counts = _geographies(flagged, b.schools, ["year", "cohort", "check_code"], [pl.len().alias("pupils")])
    sizes = _geographies(members, b.schools, ["year", "cohort"], [pl.len().alias("cohort_pupils")])
    frame = pl.concat([counts.select("year", "cohort", "geographic_level", "old_la_code", "lc"),
                       sizes.select("year", "cohort", "geographic_level", "old_la_code", "lc")]).unique()
    catalogue = pl.read_csv(SEEDS / "data_quality_checks.csv", infer_schema_length=0).select("cohort", "check_code")
    geo = ["year", "cohort", "geographic_level", "old_la_code", "lc"]
    return (frame.join(catalogue, on="cohort").join(counts, on=[*geo, "check_code"], how="left", nulls_equal=True)
            .join(sizes, on=geo, how="left", nulls_equal=True)
            .with_columns(pl.col("pupils").fill_null(0), pl.col("cohort_pupils").fill_null(0)))


# ---------------------------------------------------------------------------------------------
# comparing with a publication

def _rows(frame: pl.DataFrame):
    """Published rows with each figure read by the publication's convention (docs/methodology.md#published-figures):
    a NULL figure takes the symbol in its ``<figure>_status`` column ('c' withheld, 'z' not applicable)."""
    figures = [c for c in frame.columns if f"{c}_status" in frame.columns]
    for r in frame.iter_rows(named=True):
        for c in figures:
            if r[c] is None and r[f"{c}_status"] is not None:
                r[c] = r[f"{c}_status"]
        yield r


def _num(v) -> float | None | str:
    """A published figure: 'c' withheld, 'z' not applicable (None), else a number."""
    if v is None or v == "z":
        return None
    if v == "c":
        return "c"
    return float(v)


class Comparison:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.checked = 0

    def exact(self, where: str, name: str, published, expected) -> None:
        p = _num(published)
        if p == "c":
            return
        self.checked += 1
        if expected is None or (isinstance(expected, float) and math.isnan(expected)):
            if p is not None:
                self.problems.append(f"{where}: {name} published {published}, expected none")
            return
        tol = 0.0051 if abs(expected - round(expected)) > 1e-9 else 1e-9  # sums of fractional values are shown to 2 dp
        if p is None or abs(p - expected) > tol:
            self.problems.append(f"{where}: {name} published {published}, expected {expected}")

    def close(self, where: str, name: str, published, expected, tol: float = 0.0501) -> None:
        p = _num(published)
        if p == "c":
            return
        self.checked += 1
        if expected is None or (isinstance(expected, float) and math.isnan(expected)):
            if p is not None:
                self.problems.append(f"{where}: {name} published {published}, expected none")
        elif p is None or abs(p - expected) > tol:
            self.problems.append(f"{where}: {name} published {published}, expected {expected:.4f}")

    def same(self, where: str, name: str, published, expected) -> None:
        if published == "c":
            return
        published = None if published == "z" else published
        self.checked += 1
        if published != expected:
            self.problems.append(f"{where}: {name} published {published!r}, expected {expected!r}")

    def rows(self, table: str, published: set, expected: set) -> None:
        for k in sorted(expected - published, key=str)[:20]:
            self.problems.append(f"{table}: row {k} expected but not published")
        for k in sorted(published - expected, key=str)[:20]:
            self.problems.append(f"{table}: row {k} published but not expected")


def _tp(year: int) -> int:
    return year * 100 + (year + 1) % 100


def compare(folder: Path, publication: Path) -> Comparison:
    """Every published figure of the outcome, gap, gap index, trend, cohort and data-quality tables
    against the recomputation from the files in ``folder``."""
    b = load(folder)
    out, parts = outcomes(b)
    g = gaps(out)
    idx = gap_index(b, parts)
    tr = trends(g)
    cs = cohort_stages(b, parts)
    tx = transitions(b, parts)
    dq = data_quality(b, parts)
    cmp = Comparison()
    with duckdb.connect(str(publication), read_only=True) as con:
        pub = {t: con.sql(f"SELECT * FROM {t}").pl() for t in (
            "learning_community_outcomes", "learning_community_disadvantage_gaps", "learning_community_gap_index",
            "learning_community_gap_trends", "learning_community_cohort_stages", "learning_community_cohort_transitions",
            "learning_community_data_quality", "dim_schools")}

    # each school's latest Ofsted inspection
    if list(Path(folder).glob("Management_information*")):
        la = int(b.schools["laestab"][0]) // 10000
        insp = ofsted_inspections(Path(folder), la).sort("publication_date").group_by("urn").last()
        exp = {r["urn"]: r for r in insp.iter_rows(named=True)}
        schools = list(_rows(pub["dim_schools"]))
        got = {r["urn"]: r for r in schools if r["ofsted_publication_date"] is not None}
        cmp.rows("dim_schools (Ofsted)", set(got), set(exp) & {r["urn"] for r in schools})
        for k in set(got) & set(exp):
            p, e, w = got[k], exp[k], f"dim_schools Ofsted {k}"
            cmp.same(w, "ofsted_publication_date", p["ofsted_publication_date"], e["publication_date"])
            cmp.same(w, "ofsted_framework", p["ofsted_framework"], e["framework"])
            cmp.same(w, "ofsted_inspection_number", p["ofsted_inspection_number"], e["number"])
            cmp.same(w, "ofsted_overall_effectiveness", p["ofsted_overall_effectiveness"], e["overall"])
            cmp.same(w, "ofsted_category_of_concern", p["ofsted_category_of_concern"], e["concern"])

    # outcomes
    exp = {(_tp(r["year"]), r["geographic_level"], r["old_la_code"], r["lc"], r["measure"], r["breakdown"], r["subgroup"]): r
           for r in out.iter_rows(named=True)}
    got = {(r["time_period"], r["geographic_level"], r["old_la_code"], r["learning_community_code"], r["measure"],
            r["breakdown"], r["subgroup"]): r for r in _rows(pub["learning_community_outcomes"])}
    cmp.rows("learning_community_outcomes", set(got), set(exp))
    for k in set(got) & set(exp):
        p, e, w = got[k], exp[k], f"outcomes {k}"
        cmp.same(w, "time_identifier", p["time_identifier"], e["time_identifier"])
        cmp.exact(w, "numerator", p["numerator"], e["numerator"])
        cmp.exact(w, "denominator", p["denominator"], e["denominator"])
        cmp.exact(w, "pupils", p["pupils"], float(e["pupils"]))
        cmp.close(w, "value", p["value"], e["value"])

    # gaps
    exp = {(_tp(r["year"]), r["geographic_level"], r["old_la_code"], r["lc"], r["measure"]): r for r in g.iter_rows(named=True)}
    got = {(r["time_period"], r["geographic_level"], r["old_la_code"], r["learning_community_code"], r["measure"]): r
           for r in _rows(pub["learning_community_disadvantage_gaps"])}
    cmp.rows("learning_community_disadvantage_gaps", set(got), set(exp))
    for k in set(got) & set(exp):
        p, e, w = got[k], exp[k], f"gaps {k}"
        for grp, pre in (("disadvantaged", "dis"), ("other", "oth")):
            for rolling, rp in (("", ""), ("rolling_", "r_")):
                cmp.exact(w, f"{rolling}{grp}_numerator", p[f"{rolling}{grp}_numerator"], e[f"{rp}{pre}_num"])
                cmp.exact(w, f"{rolling}{grp}_denominator", p[f"{rolling}{grp}_denominator"], e[f"{rp}{pre}_den"])
                cmp.exact(w, f"{rolling}{grp}_pupils", p[f"{rolling}{grp}_pupils"], float(e[f"{rp}{pre}_pupils"]))
                cmp.close(w, f"{rolling}{grp}_value", p[f"{rolling}{grp}_value"], e[f"{rp}{pre}_value"])
        cmp.close(w, "gap", p["gap"], e["gap"])
        cmp.close(w, "rolling_gap", p["rolling_gap"], e["rolling_gap"])
        cmp.exact(w, "rolling_years", p["rolling_years"], float(e["rolling_years"]))
        cmp.close(w, "national_gap", p["national_gap"], e["national_gap"])
        cmp.close(w, "gap_against_national", p["gap_against_national"], e["gap_against_national"])

    # gap index
    exp = {(_tp(r["year"]), r["geographic_level"], r["old_la_code"], r["lc"], r["stage"]): r for r in idx.iter_rows(named=True)}
    got = {(r["time_period"], r["geographic_level"], r["old_la_code"], r["learning_community_code"], r["stage"]): r
           for r in _rows(pub["learning_community_gap_index"])}
    cmp.rows("learning_community_gap_index", set(got), set(exp))
    for k in set(got) & set(exp):
        p, e, w = got[k], exp[k], f"gap index {k}"
        cmp.exact(w, "disadvantaged_pupils", p["disadvantaged_pupils"], float(e["n_d"]))
        cmp.exact(w, "other_pupils", p["other_pupils"], float(e["n_o"]))
        cmp.close(w, "disadvantaged_mean_percentile_rank", p["disadvantaged_mean_percentile_rank"], e["m_d"], 0.0051)
        cmp.close(w, "other_mean_percentile_rank", p["other_mean_percentile_rank"], e["m_o"], 0.0051)
        cmp.close(w, "gap_index", p["gap_index"], e["index"], 0.0051)
        cmp.close(w, "national_gap_index", p["national_gap_index"], e["national"], 0.0051)

    # trends
    exp = {(r["geographic_level"], r["old_la_code"], r["lc"], r["measure"]): r for r in tr}
    got = {(r["geographic_level"], r["old_la_code"], r["learning_community_code"], r["measure"]): r
           for r in _rows(pub["learning_community_gap_trends"])}
    cmp.rows("learning_community_gap_trends", set(got), set(exp))
    for k in set(got) & set(exp):
        p, e, w = got[k], exp[k], f"trend {k}"
        cmp.same(w, "first_time_period", p["first_time_period"], _tp(e["first_year"]))
        cmp.same(w, "last_time_period", p["last_time_period"], _tp(e["last_year"]))
        cmp.same(w, "years_in_window", p["years_in_window"], e["years"])
        for end, r in (("first", e["first"]), ("last", e["last"])):
            for grp, pre in (("disadvantaged", "dis"), ("other", "oth")):
                cmp.exact(w, f"{end}_{grp}_numerator", p[f"{end}_{grp}_numerator"], r[f"{pre}_num"])
                cmp.exact(w, f"{end}_{grp}_denominator", p[f"{end}_{grp}_denominator"], r[f"{pre}_den"])
        for col, key in (("first_gap", "first_gap"), ("last_gap", "last_gap"), ("gap_change", "change"),
                         ("gap_change_lower_95", "change_lower"), ("gap_change_upper_95", "change_upper")):
            cmp.close(w, col, p[col], e[key])
        for col, key in (("gap_change_per_year", "slope"), ("gap_change_per_year_lower_95", "lower"),
                         ("gap_change_per_year_upper_95", "upper"), ("national_gap_change_per_year", "national_per_year")):
            cmp.close(w, col, p[col], e[key], 0.0051)
        cmp.close(w, "national_gap_change", p["national_gap_change"], e["national_change"])
        cmp.same(w, "trend", p["trend"], e["trend"])
        cmp.same(w, "interval_basis", p["interval_basis"], e["basis"])
        cmp.close(w, "first_value", p["first_value"], e["first_value"])
        cmp.close(w, "last_value", p["last_value"], e["last_value"])
        for col, key in (("value_change_per_year", "value_slope"), ("value_change_per_year_lower_95", "value_lower"),
                         ("value_change_per_year_upper_95", "value_upper")):
            cmp.close(w, col, p[col], e[key], 0.0051)
        cmp.same(w, "value_trend", p["value_trend"], e["value_trend"])
        cmp.same(w, "value_interval_basis", p["value_interval_basis"], e["value_basis"])
        cmp.same(w, "compared_with_national", p["compared_with_national"], e["compared"])

    # cohort stages and transitions
    exp = {(r["reception_year"], r["geographic_level"], r["old_la_code"], r["lc"], r["stage"], r["subgroup"]): r
           for r in cs.iter_rows(named=True)}
    got = {(r["reception_year"], r["geographic_level"], r["old_la_code"], r["learning_community_code"], r["stage"], r["subgroup"]): r
           for r in _rows(pub["learning_community_cohort_stages"])}
    cmp.rows("learning_community_cohort_stages", set(got), set(exp))
    for k in set(got) & set(exp):
        p, e, w = got[k], exp[k], f"cohort stage {k}"
        cmp.exact(w, "numerator", p["numerator"], float(e["numerator"]))
        cmp.exact(w, "denominator", p["denominator"], float(e["denominator"]))
        cmp.close(w, "value", p["value"], 100 * e["numerator"] / e["denominator"])
    exp = {(r["reception_year"], r["geographic_level"], r["old_la_code"], r["lc"], r["from_stage"], r["to_stage"],
            _tp(r["to_year"]), r["subgroup"]): r for r in tx.iter_rows(named=True)}
    got = {(r["reception_year"], r["geographic_level"], r["old_la_code"], r["learning_community_code"], r["from_stage"],
            r["to_stage"], r["time_period"], r["subgroup"]): r for r in _rows(pub["learning_community_cohort_transitions"])}
    cmp.rows("learning_community_cohort_transitions", set(got), set(exp))
    for k in set(got) & set(exp):
        p, e, w = got[k], exp[k], f"transition {k}"
        for c in ("pupils_tracked", "below_expected_before", "caught_up", "at_expected_before", "fell_behind", "stayed_in_community"):
            cmp.exact(w, c, p[c], float(e[c]))
        for c, n, d in (("caught_up_percentage", "caught_up", "below_expected_before"),
                        ("fell_behind_percentage", "fell_behind", "at_expected_before"),
                        ("stayed_in_community_percentage", "stayed_in_community", "pupils_tracked")):
            cmp.close(w, c, p[c], 100 * e[n] / e[d] if e[d] else None)

    # data quality
    exp = {(_tp(r["year"]), r["geographic_level"], r["old_la_code"], r["lc"], r["cohort"], r["check_code"]): r
           for r in dq.iter_rows(named=True)}
    got = {(r["time_period"], r["geographic_level"], r["old_la_code"], r["learning_community_code"], r["cohort"], r["check_code"]): r
           for r in _rows(pub["learning_community_data_quality"])}
    cmp.rows("learning_community_data_quality", set(got), set(exp))
    for k in set(got) & set(exp):
        p, e, w = got[k], exp[k], f"data quality {k}"
        cmp.exact(w, "pupils", p["pupils"], float(e["pupils"]))
        cmp.exact(w, "cohort_pupils", p["cohort_pupils"], float(e["cohort_pupils"]))
    return cmp


# ---------------------------------------------------------------------------------------------
# Ofsted inspections (docs/methodology.md#ofsted-inspections)

EIF_WORDS = {"1": "Outstanding", "2": "Good", "3": "Requires improvement", "4": "Inadequate"}
CONCERN_WORDS = {"SM": "Special measures", "SWK": "Serious weaknesses", "RSI": "Requires significant improvement"}
CARD_AREAS = ["Safeguarding standards", "Inclusion", "Curriculum and teaching", "Achievement", "Attendance and behaviour",
              "Personal development and wellbeing", "Early years (where applicable)",
              "Post-16 provision (where applicable)", "Leadership and governance"]


def _ofsted_files(folder: Path) -> list[pl.DataFrame]:
    frames = []
    for path in sorted(folder.glob("Management_information*")):
        if path.suffix == ".xlsx":
            raw = pl.read_excel(path, has_header=False, infer_schema_length=0)
            header = next(i for i, r in enumerate(raw.iter_rows()) if r[1] == "URN")
            body = raw.slice(header + 1)
            body.columns = [str(c) for c in raw.row(header)]
        else:
            body = pl.read_csv(path, infer_schema_length=0, encoding="windows-1252")
        frames.append(body)
    return frames


def ofsted_inspections(folder: Path, la_code: int) -> pl.DataFrame:
    """Every inspection the files describe of the authority's schools (URN and publication date identify
    one; a later file's version wins): urn, publication_date, framework, number, overall (words), concern."""
    rows: dict[tuple[int, object], dict] = {}
    for f in _ofsted_files(folder):
        for r in f.iter_rows(named=True):
            if r.get("LAESTAB") is None or int(r["LAESTAB"]) // 10000 != la_code:
                continue
            urn = int(r["URN"])
            pub = _parse_date(r["Publication date"])
            card = any(r.get(a) for a in CARD_AREAS)
            concern = CONCERN_WORDS.get(r.get("Category of concern") or "")
            latest_pub = _parse_date(r.get("Publication date of latest OEIF graded inspection"))
            if card:
                rows[(urn, pub)] = dict(framework="Report card", number=r["Inspection number of latest full inspection"],
                                        overall=None, concern=concern)
            elif "Overall effectiveness" in r:
                rows[(urn, pub)] = dict(framework="EIF", number=r["Inspection number of latest full inspection"],
                                        overall=EIF_WORDS.get(r["Overall effectiveness"] or ""), concern=concern)
            if latest_pub is not None:
                same = latest_pub == pub
                rows[(urn, latest_pub)] = dict(
                    framework="EIF", number=r["Inspection number of latest full inspection"] if same else None,
                    overall=EIF_WORDS.get(r.get("Latest OEIF overall effectiveness") or ""),
                    concern=concern if same else CONCERN_WORDS.get(r.get("Latest OEIF category of concern") or ""))
    return pl.DataFrame([{"urn": k[0], "publication_date": k[1], **v} for k, v in rows.items()],
                        schema={"urn": pl.Int64, "publication_date": pl.Date, "framework": pl.String, "number": pl.String,
                                "overall": pl.String, "concern": pl.String})


def _parse_date(v):
    from datetime import datetime

    return datetime.strptime(v, "%d/%m/%Y").date() if v else None


# ---------------------------------------------------------------------------------------------
# small helpers other tests use (each from the definitions above)

def ks2_rwm_by_learning_community(folder: Path, year_label: str) -> pl.DataFrame:
    """KS2 RWM expected per learning community x disadvantage for one year ('2023-24')."""
    b = load(folder)
    year = int(year_label[:4])
    k = ks2(b).filter(pl.col("year") == year).join(disadvantage(b).select("upn", "year", "disadvantaged"),
                                                   on=["upn", "year"], how="left")
    k = k.with_columns(pl.col("disadvantaged").fill_null(False)).join(b.schools, on="laestab", how="left")
    return (k.group_by(pl.col("lc").alias("LearningCommunityCode"), "disadvantaged")
            .agg(numerator=pl.col("rwm").sum(), denominator=pl.len()).sort("LearningCommunityCode", "disadvantaged"))


def gld_by_learning_community(folder: Path, year_label: str) -> pl.DataFrame:
    """EYFS good level of development: expected ('2') in all of E01-E12, per learning community."""
    b = load(folder)
    e = eyfs(b).filter(pl.col("year") == int(year_label[:4])).join(b.schools, on="laestab", how="inner")
    return (e.group_by(pl.col("lc").alias("LearningCommunityCode")).agg(numerator=pl.col("gld").sum(), denominator=pl.len())
            .sort("LearningCommunityCode"))


def overall_absence_borough(folder: Path, year_label: str, start_year: int) -> tuple[int, int]:
    """Sessions missed and possible over the year's terms, enrolments of compulsory school age."""
    a = attendance(load(folder)).filter((pl.col("year") == start_year) & pl.col("in_population"))
    return int(a["absent"].sum()), int(a["possible"].sum())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Recompute every published figure from a generated borough's files "
                                            "(docs/methodology.md) and compare with a publication.")
    p.add_argument("folder", type=Path, help="the generated borough's files (pathways generate <folder>)")
    p.add_argument("publication", type=Path, help="the publication's pathways.duckdb")
    args = p.parse_args(argv)
    result = compare(args.folder, args.publication)
    for line in result.problems[:200]:
        print(line)
    print(f"{result.checked:,} published figures checked; {len(result.problems):,} mismatches")
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
