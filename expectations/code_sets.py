"""Code sets the rules check against (docs/methodology.md#identifiers, #subgroups-and-breakdowns and
#cbds-code-sets). The census code sets (ethnicity, language, SEN provision and need, NC year, enrolment
status) are read from the dbt seeds, so the warehouse and the validator use one list, with the dates
each code was in use."""

from __future__ import annotations

import csv
from datetime import date
from functools import cache
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds"

SEX = ["M", "F"]
TERMS = ["autumn", "spring", "summer"]
ELG_VALUES = ["1", "2", "A"]
PHONICS_OUTCOMES = ["WA", "WT", "A", "D", "L", "Q"]
KS1_TA = ["GDS", "EXS", "WTS", "PK1", "PK2", "PK3", "PK4", "BLW", "EM", "A", "D", "L", "Q", "HNM"]
KS2_SCORE_CODES = ["A", "B", "J", "L", "M", "Q", "T", "U", "N"]
KS2_WRITING_TA = ["GDS", "EXS", "WTS", "PK1", "PK2", "PK3", "PK4", "PK5", "PK6", "EM", "A", "D", "L", "Q", "J"]
GCSE_GRADES = [str(g) for g in range(1, 10)] + ["U", "X"]
PUPIL_LEVEL_TERMS = {"autumn": 1, "spring": 2, "summer": 3}


# the CBDS code sets (docs/methodology.md#cbds-code-sets): seed file and the column holding the code, per
# census column; the marts read the same seeds
CBDS_SEEDS = {
    "ethnicity": ("ethnicity_codes", "ethnicity_code"),
    "first_language": ("first_languages", "language_code"),
    "sen_provision": ("sen_provisions", "sen_provision"),
    "sen_primary_need": ("sen_primary_needs", "sen_primary_need"),
    "nc_year": ("nc_years", "nc_year"),
    "enrol_status": ("enrolment_statuses", "enrol_status"),
}


@cache
def _seed(name: str) -> tuple[dict, ...]:
    with open(SEEDS / f"{name}.csv") as f:
        return tuple(csv.DictReader(f))


def codes(column: str) -> list[str]:
    """Every code of a census column's CBDS code set, whenever it was in use."""
    seed, key = CBDS_SEEDS[column]
    return [r[key] for r in _seed(seed)]


def in_use(column: str) -> dict[str, tuple[date | None, date | None]]:
    """code -> (first day, last day) it may be used; None where the code set gives no date."""
    seed, key = CBDS_SEEDS[column]
    day = lambda v: date.fromisoformat(v) if v else None  # noqa: E731
    return {r[key]: (day(r.get("effective_from")), day(r.get("effective_to"))) for r in _seed(seed)}


def ethnicity_codes() -> list[str]:
    return codes("ethnicity")


def sen_primary_needs() -> list[str]:
    return codes("sen_primary_need")


SEN_PROVISION = codes("sen_provision")
NC_YEARS = codes("nc_year")
ENROL_STATUS = codes("enrol_status")
LANGUAGES = codes("first_language")


def sen_provisions_needing_a_need() -> list[str]:
    """SEN provision codes that count as SEN support or an EHC plan (a primary need is required)."""
    return [r["sen_provision"] for r in _seed("sen_provisions") if r["counted_as"] in ("K", "E")]


@cache
def ofsted_grade_codes() -> dict[tuple[str, str], set[str]]:
    """(framework, judgement) -> the grades Ofsted writes for it, lower case (docs/methodology.md#ofsted-inspections;
    the seed ofsted_grades, which the marts read for the labels). A judgement not listed by name takes the
    framework's '*' grades."""
    from ingest.ofsted import EIF_JUDGEMENTS, REPORT_CARD_AREAS

    rows = _seed("ofsted_grades")
    out: dict[tuple[str, str], set[str]] = {}
    named = {(r["framework"], r["judgement"]) for r in rows if r["judgement"] != "*"}
    for framework, judgements in (("EIF", EIF_JUDGEMENTS), ("Report card", REPORT_CARD_AREAS)):
        for j in [*judgements, "category_of_concern"]:
            key = (framework, j) if (framework, j) in named else (framework, "*")
            out[(framework, j)] = {r["grade_code"].lower() for r in rows if (r["framework"], r["judgement"]) == key}
    return out


@cache
def exclusion_categories() -> dict[str, str]:
    """Census exclusion category -> what it counts as: permanent, suspension or lunchtime
    (docs/methodology.md#exclusions; the seed exclusion_categories)."""
    return {r["exclusion_category"]: r["counted_as"] for r in _seed("exclusion_categories")}


@cache
def exclusion_reasons() -> dict[str, tuple[int | None, int | None]]:
    """Reason code -> (first, last) academic year it is in use (the seed exclusion_reasons)."""
    return {r["reason_code"]: (int(r["first_academic_year"]) if r["first_academic_year"] else None,
                               int(r["last_academic_year"]) if r["last_academic_year"] else None)
            for r in _seed("exclusion_reasons")}


@cache
def nccis_activity_codes() -> dict[int, str]:
    """NCCIS activity code -> what it counts as: participating, neet, not_known, custody, pre_16 or other
    (docs/methodology.md#post-16-participation-and-neet; the seed nccis_activity_codes)."""
    return {int(r["activity_code"]): r["counted_as"] for r in _seed("nccis_activity_codes")}
