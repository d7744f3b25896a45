"""Figures computed straight from the generated files with polars, independently of ingest/
and dbt, to check the warehouse against. Written from the DfE definitions in docs/methodology.md, never from the SQL."""

from __future__ import annotations

from pathlib import Path

import polars as pl


def read_excel_with_title(path: Path) -> pl.DataFrame:
    raw = pl.read_excel(path, has_header=False, infer_schema_length=0)
    header = next(i for i, r in enumerate(raw.iter_rows()) if r[0] == "UPN")
    body = raw.slice(header + 1)
    body.columns = [str(c) for c in raw.row(header)]
    return body


def ks2_rwm_by_learning_community(folder: Path, year_label: str) -> pl.DataFrame:
    """KS2 RWM expected per learning community x disadvantage for one year ('2023-24').

    Expected = reading >= 100 and maths >= 100 and writing EXS/GDS; result codes count as not
    met; disadvantaged = on the pupil premium file with Ever 6 FSM, CLA or PLAC = Y; the pupil
    belongs to the learning community of the school that entered them.
    """
    ks2 = pl.read_excel(folder / f"ks2_{year_label}.xlsx", infer_schema_length=0)
    pp = read_excel_with_title(folder / f"pupil_premium_{year_label}.xlsx")
    schools = pl.read_csv(folder / "schools.csv", infer_schema_length=0).select("LAESTAB", "LearningCommunityCode").unique()
    disadvantaged = pp.filter((pl.col("Ever6FSM") == "Y") | (pl.col("CLA") == "Y") | (pl.col("PLAC") == "Y")).select("UPN").unique()
    score = lambda c: pl.col(c).cast(pl.Int64, strict=False).fill_null(0)  # noqa: E731
    k = (ks2.join(schools, on="LAESTAB", how="left")
         .with_columns(disadvantaged=pl.col("UPN").is_in(disadvantaged["UPN"].implode()),
                       met=(score("READ_SCORE") >= 100) & (score("MAT_SCORE") >= 100) & pl.col("WRIT_TA").is_in(["EXS", "GDS"])))
    return (k.group_by("LearningCommunityCode", "disadvantaged")
            .agg(numerator=pl.col("met").sum(), denominator=pl.len())
            .sort("LearningCommunityCode", "disadvantaged"))


def census(folder: Path, pattern: str) -> pl.DataFrame:
    return pl.concat([pl.read_csv(p, infer_schema_length=0) for p in sorted(folder.glob(pattern))])


def gld_by_learning_community(folder: Path, year_label: str) -> pl.DataFrame:
    """EYFS good level of development: expected ('2') in all of E01-E12, per learning community."""
    e = pl.read_csv(folder / f"eyfsp_{year_label}.csv", infer_schema_length=0)
    schools = pl.read_csv(folder / "schools.csv", infer_schema_length=0).select("LAESTAB", "LearningCommunityCode").unique()
    gld = pl.all_horizontal([pl.col(f"E{g:02d}") == "2" for g in range(1, 13)])
    return (e.join(schools, on="LAESTAB").group_by("LearningCommunityCode")
            .agg(numerator=gld.sum(), denominator=pl.len()).sort("LearningCommunityCode"))


def overall_absence_borough(folder: Path, year_label: str, start_year: int) -> tuple[int, int]:
    """Sessions missed and possible over the year's terms, enrolments of pupils aged 5-15 at
    31 August with some possible sessions (EES pupil absence methodology)."""
    a = census(folder, f"attendance_{year_label}_*.csv").with_columns(
        pl.col("PossibleSessions", "SessionsAuthorisedAbsence", "SessionsUnauthorisedAbsence").cast(pl.Int64),
        dob=pl.col("DOB").str.strptime(pl.Date, "%d/%m/%Y"))
    age_months = (start_year - pl.col("dob").dt.year()) * 12 + (8 - pl.col("dob").dt.month())
    e = (a.group_by("UPN", "LAESTAB").agg(pl.col("PossibleSessions", "SessionsAuthorisedAbsence",
                                                    "SessionsUnauthorisedAbsence").sum(), age=age_months.first())
         .filter((pl.col("PossibleSessions") > 0) & pl.col("age").is_between(60, 191)))
    return int((e["SessionsAuthorisedAbsence"] + e["SessionsUnauthorisedAbsence"]).sum()), int(e["PossibleSessions"].sum())
