"""Write the synthetic borough as the files an authority actually receives.

One file per source per term (census, attendance) or per year (attainment by stage, pupil
premium), with MIS-style headers and UK dates, a few as Excel workbooks (the pupil premium
workbook has a title block above its header row, as DfE downloads do), plus the reference
data: schools and learning communities.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from synthetic.outcomes import Outcomes, simulate_outcomes
from synthetic.pupils import TERMS, Population, census_date, simulate_pupils
from synthetic.schools import Borough, build_borough
from synthetic.spec import BoroughSpec

NC_LABEL = {-1: "N2", 0: "R", **{i: str(i) for i in range(1, 14)}}


def year_label(y: int) -> str:
    return f"{y}/{(y + 1) % 100:02d}"


def _file_year(y: int) -> str:
    return f"{y}-{(y + 1) % 100:02d}"


def generate(spec: BoroughSpec, out_dir: Path, progress: Callable[[str], None] = lambda m: None) -> dict:
    """Generate the borough into ``out_dir``; returns (and writes) a manifest of what was made."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(spec.seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    borough = build_borough(spec, rng)
    progress(f"borough: {borough.learning_communities.height} learning communities, {borough.establishments.height} schools")
    pop = simulate_pupils(spec, borough, rng)
    progress(f"pupils: {pop.pupils.height:,} simulated, {pop.census.height:,} census rows")
    outcomes = simulate_outcomes(spec, borough, pop, rng)
    progress("outcomes, attendance and pupil premium simulated")
    files = _write_all(spec, borough, pop, outcomes, out_dir, progress)
    manifest = {
        "generator": "pathways synthetic borough",
        "seed": spec.seed,
        "la_code": spec.la_code,
        "years": [year_label(y) for y in spec.years],
        "learning_communities": borough.learning_communities.height,
        "schools": borough.establishments.height,
        "pupils_simulated": pop.pupils.height,
        "planted_trends": {
            "disadvantage_gap_narrowing": spec.planted_narrowing,
            "disadvantage_gap_widening": spec.planted_widening,
            "exclusions_rising": spec.planted_exclusions_rising,
            "neet_rising": spec.planted_neet_rising,
        },
        "files": files,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    return manifest


def _identity(pop: Population, borough: Borough, frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix a measure frame with UPN, names, DOB, Gender and LAESTAB as MIS exports do."""
    pupils = pop.pupils.select("pupil_index", "upn", "surname", "forename", "dob", "sex")
    laestab = borough.establishments.select(pl.col("school_index").cast(pl.Int64), "laestab")
    f = (frame.with_columns(pl.col("pupil_index").cast(pl.Int64), pl.col("school_index").cast(pl.Int64))
         .join(pupils, on="pupil_index", how="left", maintain_order="left")
         .join(laestab, on="school_index", how="left", maintain_order="left"))
    measure_cols = [c for c in frame.columns if c not in ("pupil_index", "school_index")]
    return f.select(
        pl.col("upn").alias("UPN"), pl.col("surname").alias("Surname"), pl.col("forename").alias("Forename"),
        pl.col("dob").dt.strftime("%d/%m/%Y").alias("DOB"), pl.col("sex").alias("Gender"),
        pl.col("laestab").alias("LAESTAB"), *measure_cols,
    )


def _write_all(spec, borough, pop, outcomes: Outcomes, out: Path, progress) -> list[str]:
    files: list[str] = []

    def write(df: pl.DataFrame, name: str, title: str | None = None):
        if name.endswith(".xlsx"):
            import xlsxwriter

            with xlsxwriter.Workbook(out / name) as wb:
                wb.set_properties({"created": datetime(2000, 1, 1)})  # byte-identical for a seed
                ws = wb.add_worksheet("Data")
                row = 0
                if title:  # a title block above the header, as DfE downloads have
                    ws.write(0, 0, title)
                    ws.write(1, 0, f"Local authority: {spec.la_name} ({spec.la_code})")
                    row = 3
                df.write_excel(wb, worksheet=ws, position=(row, 0), autofit=False, table_style=None, autofilter=False)
        else:
            df.write_csv(out / name)
        files.append(name)

    # ---- reference data ---------------------------------------------------------------------
    lcs = borough.learning_communities
    write(lcs.select(pl.col("learning_community_code").alias("LearningCommunityCode"),
                     pl.col("learning_community_name").alias("LearningCommunityName"),
                     pl.col("collaborative").alias("Collaborative")), "learning_communities.csv")
    phase_label = pl.col("phase")
    if spec.reference_format == "gias":
        from synthetic.gias import write_gias

        files += write_gias(borough.schools, spec.la_code, spec.la_name, out, date(spec.last_year + 1, 4, 1))
    else:
        write(borough.schools.select(
            pl.col("urn").alias("URN"), pl.col("laestab").alias("LAESTAB"), pl.col("school_name").alias("SchoolName"),
            phase_label.alias("Phase"), pl.col("establishment_type").alias("TypeOfEstablishment"),
            pl.col("learning_community_code").alias("LearningCommunityCode"), pl.col("collaborative").alias("Collaborative"),
            pl.col("open_date").dt.strftime("%d/%m/%Y").alias("OpenDate"),
            pl.col("close_date").dt.strftime("%d/%m/%Y").alias("CloseDate"),
            pl.col("predecessor_urn").alias("PredecessorURN"),
        ), "schools.csv")

    # ---- Ofsted's inspection outcomes (reference): an EIF-layout workbook and a report-card-layout CSV ----
    from synthetic.ofsted import write_ofsted

    files += write_ofsted(spec, borough, out)

    # ---- school census, termly ---------------------------------------------------------------------
    pupils = pop.pupils
    for (y, term), part in pop.census.partition_by(["year", "term"], as_dict=True, maintain_order=True).items():
        frame = part.join(pupils.select("pupil_index", "uln", "ethnicity", "first_language"), on="pupil_index", how="left")
        frame = frame.select(
            "pupil_index", "school_index",
            pl.when(pl.col("nc") >= 10).then(pl.col("uln")).alias("ULN"),
            pl.col("ethnicity").alias("Ethnicity"), pl.col("first_language").alias("FirstLanguage"),
            pl.col("nc").replace_strict(NC_LABEL, return_dtype=pl.String).alias("NCyearActual"),
            pl.col("enrol_status").alias("EnrolStatus"),
            pl.col("entry_date").dt.strftime("%d/%m/%Y").alias("EntryDate"),
            pl.when(pl.col("fsm")).then(pl.lit("Yes")).otherwise(pl.lit("No")).alias("FSMeligible"),
            pl.col("sen").replace_strict({0: "N", 1: "K", 2: "E"}, return_dtype=pl.String).alias("SENprovision"),
            pl.col("need").replace("", None).alias("SENtype1"),
        )
        df = _identity(pop, borough, frame).with_columns(CensusDate=pl.lit(census_date(y, term).strftime("%d/%m/%Y")))
        cols = ["UPN", "ULN", "Surname", "Forename", "DOB", "Gender", "Ethnicity", "FirstLanguage", "NCyearActual",
                "EnrolStatus", "EntryDate", "FSMeligible", "SENprovision", "SENtype1", "LAESTAB", "CensusDate"]
        write(df.select(cols), f"school_census_{_file_year(y)}_{TERMS[term]}.csv")
    progress("census: termly files")

    # ---- the census exclusions module: each return carries the last two terms' exclusions -----------------
    from synthetic.exclusions import write_exclusions

    files += write_exclusions(spec, borough, pop, out, _identity, _file_year)

    # ---- post-16 activity tracking: month-end snapshots, December to March ----------------------------------
    from synthetic.post16 import write_post16

    files += write_post16(spec, borough, pop, out, _identity)

    # ---- funded early education: home areas, eligible two-year-olds lists, January early years census -------
    from synthetic.early_years import write_early_years

    files += write_early_years(spec, borough, pop, out, _identity)

    # ---- attainment, one file per stage per year ------------------------------------------------------
    stages = [("eyfsp", outcomes.eyfsp), ("phonics", outcomes.phonics), ("ks1", outcomes.ks1),
              ("ks2", outcomes.ks2), ("ks4", outcomes.ks4)]
    for stage, by_year in stages:
        for y, frame in by_year.items():
            df = _identity(pop, borough, frame).with_columns(AcademicYear=pl.lit(year_label(y)))
            ext = "xlsx" if stage in spec.xlsx_sources else "csv"
            write(df, f"{stage}_{_file_year(y)}.{ext}")
    progress("attainment: EYFSP, phonics, KS1, KS2 and KS4 files")

    # ---- attendance, termly -----------------------------------------------------------------------------
    for (y, term), frame in outcomes.attendance.items():
        df = _identity(pop, borough, frame).with_columns(AcademicYear=pl.lit(year_label(y)), Term=pl.lit(TERMS[term].title()))
        write(df.drop("Gender"), f"attendance_{_file_year(y)}_{TERMS[term]}.csv")

    # ---- pupil premium, yearly ---------------------------------------------------------------------------
    for y, frame in outcomes.pupil_premium.items():
        df = _identity(pop, borough, frame).with_columns(AcademicYear=pl.lit(year_label(y)))
        ext = "xlsx" if "pupil_premium" in spec.xlsx_sources else "csv"
        write(df.drop("Gender"), f"pupil_premium_{_file_year(y)}.{ext}",
              title=f"Pupil premium eligibility {year_label(y)} (January census)")
    progress(f"{len(files)} files written to {out}")
    return files


def write_manifest(manifest: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2))
