"""Code sets the rules check against (docs/methodology.md#identifiers and #subgroups-and-breakdowns). Ethnicity and SEN need codes are read
from the dbt seeds, so the warehouse and the validator use one list."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds"

SEX = ["M", "F"]
SEN_PROVISION = ["N", "K", "E", "S"]
NC_YEARS = ["E1", "E2", "N1", "N2", "R", "X"] + [str(i) for i in range(1, 15)]
ENROL_STATUS = ["C", "M", "S", "G", "F", "O", "P"]
TERMS = ["autumn", "spring", "summer"]
ELG_VALUES = ["1", "2", "A"]
PHONICS_OUTCOMES = ["WA", "WT", "A", "D", "L", "Q"]
KS1_TA = ["GDS", "EXS", "WTS", "PK1", "PK2", "PK3", "PK4", "BLW", "EM", "A", "D", "L", "Q", "HNM"]
KS2_SCORE_CODES = ["A", "B", "J", "L", "M", "Q", "T", "U", "N"]
KS2_WRITING_TA = ["GDS", "EXS", "WTS", "PK1", "PK2", "PK3", "PK4", "PK5", "PK6", "EM", "A", "D", "L", "Q", "J"]
GCSE_GRADES = [str(g) for g in range(1, 10)] + ["U", "X"]
PUPIL_LEVEL_TERMS = {"autumn": 1, "spring": 2, "summer": 3}


@cache
def ethnicity_codes() -> list[str]:
    with open(SEEDS / "ethnicity_codes.csv") as f:
        return [r["ethnicity_code"] for r in csv.DictReader(f)]


@cache
def sen_primary_needs() -> list[str]:
    with open(SEEDS / "sen_primary_needs.csv") as f:
        return [r["sen_primary_need"] for r in csv.DictReader(f)]
