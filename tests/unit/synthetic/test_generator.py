"""The synthetic borough: deterministic, valid identifiers, and calibrated to realistic rates."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from ingest.identifiers import is_valid_uln, is_valid_upn
from synthetic import BoroughSpec, generate, small_borough
from synthetic.spec import (
    NATIONAL_ABSENCE,
    NATIONAL_GLD,
    NATIONAL_KS2_RWM,
    NATIONAL_KS4_BASICS_5,
    NATIONAL_PHONICS_Y1,
)
from tests.oracle import census, ks2_rwm_by_learning_community, read_excel_with_title


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files(small_borough_dir, tmp_path):
    generate(small_borough(), tmp_path / "again")
    assert _digests(tmp_path / "again") == _digests(small_borough_dir)


def test_a_different_seed_gives_a_different_borough(small_borough_dir, tmp_path):
    generate(small_borough(seed=8), tmp_path / "other")
    a, b = _digests(tmp_path / "other"), _digests(small_borough_dir)
    assert a.keys() == b.keys()
    assert a["school_census_2023-24_autumn.csv"] != b["school_census_2023-24_autumn.csv"]


def test_every_generated_upn_and_uln_is_valid(small_borough_dir):
    c = census(small_borough_dir, "school_census_*.csv")
    upns = c["UPN"].unique().to_list()
    assert len(upns) > 3000
    assert all(is_valid_upn(u) for u in upns)
    ulns = c["ULN"].drop_nulls().unique().to_list()
    assert ulns and all(is_valid_uln(u) for u in ulns)


def test_files_an_authority_receives_are_all_there(small_borough_dir):
    names = {p.name for p in small_borough_dir.iterdir()}
    for y in ("2022-23", "2023-24", "2024-25"):
        for term in ("autumn", "spring", "summer"):
            assert f"school_census_{y}_{term}.csv" in names
            assert f"attendance_{y}_{term}.csv" in names
        for stage in ("eyfsp", "phonics", "ks4"):
            assert f"{stage}_{y}.csv" in names
        assert f"ks2_{y}.xlsx" in names and f"pupil_premium_{y}.xlsx" in names
    assert "ks1_2022-23.csv" in names and "ks1_2023-24.csv" not in names  # KS1 non-statutory from 2023/24
    assert {"schools.csv", "learning_communities.csv"} <= names


def test_no_national_assessments_in_the_covid_years(tmp_path):
    spec = BoroughSpec(seed=3, first_year=2018, last_year=2021, pupils_on_roll=1500, n_learning_communities=2,
                       primary_schools_per_learning_community=3, n_special_schools=1)
    generate(spec, tmp_path)
    names = {p.name for p in tmp_path.iterdir()}
    for stage in ("eyfsp", "phonics", "ks1", "ks2"):
        assert f"{stage}_2019-20.csv" not in names and f"{stage}_2019-20.xlsx" not in names
        assert f"{stage}_2020-21.csv" not in names and f"{stage}_2020-21.xlsx" not in names
    assert "attendance_2019-20_summer.csv" not in names  # no collection in summer 2020


@pytest.fixture(scope="module")
def calibration_borough(tmp_path_factory) -> tuple[BoroughSpec, Path]:
    spec = BoroughSpec(seed=11, first_year=2022, last_year=2023, pupils_on_roll=16_000, n_learning_communities=4,
                       primary_schools_per_learning_community=5, n_special_schools=1)
    out = tmp_path_factory.mktemp("calibration")
    generate(spec, out)
    return spec, out


def test_outcome_rates_land_near_the_national_figures(calibration_borough):
    spec, folder = calibration_borough
    off = spec.la_offset_pp
    for y, label in ((2022, "2022-23"), (2023, "2023-24")):
        k = ks2_rwm_by_learning_community(folder, label)
        rwm = 100 * k["numerator"].sum() / k["denominator"].sum()
        assert abs(rwm - (NATIONAL_KS2_RWM[y] + off)) < 2.5, (label, rwm)

        e = pl.read_csv(folder / f"eyfsp_{label}.csv", infer_schema_length=0)
        gld = 100 * e.select(pl.all_horizontal([pl.col(f"E{g:02d}") == "2" for g in range(1, 13)]).mean()).item()
        assert abs(gld - (NATIONAL_GLD[y] + off)) < 2.0, (label, gld)

        ph = pl.read_csv(folder / f"phonics_{label}.csv", infer_schema_length=0).filter(pl.col("NCyearActual") == "1")
        met = 100 * (ph["PhonicsOutcome"] == "Wa").mean()
        assert abs(met - (NATIONAL_PHONICS_Y1[y] + off)) < 2.0, (label, met)

        g = pl.read_csv(folder / f"ks4_{label}.csv", infer_schema_length=0).with_columns(
            n=pl.col("Grade").cast(pl.Int64, strict=False).fill_null(0))
        best = g.group_by("UPN").agg(eng=pl.col("n").filter(pl.col("SubjectCode").is_in(["ENLA", "ENLI"])).max(),
                                     mat=pl.col("n").filter(pl.col("SubjectCode") == "MATH").max())
        basics = 100 * ((best["eng"] >= 5) & (best["mat"] >= 5)).mean()
        assert abs(basics - (NATIONAL_KS4_BASICS_5[y] + off)) < 3.0, (label, basics)

        a = census(folder, f"attendance_{label}_*.csv").with_columns(pl.col("^Sessions.*|Possible.*$").cast(pl.Int64))
        absence = 100 * (a["SessionsAuthorisedAbsence"].sum() + a["SessionsUnauthorisedAbsence"].sum()) / a["PossibleSessions"].sum()
        assert abs(absence - (NATIONAL_ABSENCE[y] + 0.6)) < 1.0, (label, absence)


def test_pupil_characteristics_have_realistic_shares(calibration_borough):
    _, folder = calibration_borough
    c = pl.read_csv(folder / "school_census_2023-24_spring.csv", infer_schema_length=0).filter(
        ~pl.col("NCyearActual").is_in(["N2", "12", "13"]) & (pl.col("EnrolStatus") != "S"))
    assert 50_000 / 4 * 0.8 < c.height  # about 16,000 on roll less nursery and sixth form
    share = lambda expr: c.select(expr.mean()).item()  # noqa: E731
    assert 0.11 <= share(pl.col("SENprovision") == "K") <= 0.16
    assert 0.03 <= share(pl.col("SENprovision") == "E") <= 0.05
    assert 0.10 <= share(~pl.col("FirstLanguage").is_in(["ENG", "ENB", "NOT"])) <= 0.16
    assert 0.004 <= share(pl.col("Ethnicity").is_in(["WIRT", "WROM"])) <= 0.03
    pp = read_excel_with_title(folder / "pupil_premium_2023-24.xlsx")
    disadvantaged = pp.filter((pl.col("Ever6FSM") == "Y") | (pl.col("CLA") == "Y") | (pl.col("PLAC") == "Y"))
    assert 0.24 <= disadvantaged.height / c.height <= 0.36
    # pupils arriving after the October census exist (mobility), as do dual registrations
    entry = c.with_columns(pl.col("EntryDate").str.strptime(pl.Date, "%d/%m/%Y"))
    assert entry.filter(pl.col("EntryDate") > pl.date(2023, 10, 5)).height > 50
    all_rows = pl.read_csv(folder / "school_census_2023-24_spring.csv", infer_schema_length=0)
    assert set(all_rows["EnrolStatus"].unique()) >= {"C", "M", "S"}


def test_disadvantaged_pupils_trail_others_at_ks2(calibration_borough):
    _, folder = calibration_borough
    k = ks2_rwm_by_learning_community(folder, "2023-24").group_by("disadvantaged").agg(pl.col("numerator", "denominator").sum())
    rate = {r["disadvantaged"]: 100 * r["numerator"] / r["denominator"] for r in k.iter_rows(named=True)}
    assert 10 < rate[False] - rate[True] < 35
