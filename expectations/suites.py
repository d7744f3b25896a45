"""The validation rules, one Great Expectations suite per source (and attainment stage).

Each rule is a GE expectation whose ``meta`` says, in the data lead's words, what it checks,
how severe a failure is (error: the file is refused; warning: loaded, but look) and how to fix
it. Sources for the rules: docs/methodology.md (DfE census rules and code sets, with their public URLs).
"""

from __future__ import annotations

from collections.abc import Iterable

import great_expectations as gx
from great_expectations.expectations.row_conditions import Column

from expectations import code_sets as cs
from expectations.custom import ExpectColumnValuesToBeValidUln, ExpectColumnValuesToBeValidUpn
from publish.safe_text import FORMULA_START_PATTERN


def _meta(rule: str, severity: str, message: str, fix: str, blame: str | list[str] | None = None,
          show: list[str] | None = None) -> dict:
    """What the data lead reads: the rule, how serious, what is wrong, how to fix it, which column
    to point at (``blame``: the rule's column when not given; with a list, the first the file has)
    and which other cells of the row to show beside it (``show``)."""
    m = {"rule": rule, "severity": severity, "message": message, "fix": fix}
    if blame:
        m["blame"] = blame
    if show:
        m["show"] = show
    return m


# the most possible sessions one term can hold: two sessions a day, and no term is longer than 16
# weeks of five days (docs/methodology.md#impossible-values)
MAX_SESSIONS_PER_TERM = 160
# expected age at 31 August is NC year + 4 (Reception 4, Year 6 10, Year 11 15); a pupil taught one
# year out of their year group is common, two is rare (a warning), three or more is not a pupil of
# that year group (docs/methodology.md#impossible-values)
AGE_GAP_WARNING, AGE_GAP_ERROR = 2, 3
# ages at 31 August a pupil on a file without a stage can have (docs/methodology.md#impossible-values)
SCHOOL_AGE_RANGE = {"census": (1, 25), "attendance": (1, 25), "pupil_premium": (2, 17), "exclusions": (3, 20),
                    "post16_activity": (15, 25),
                    # funded early education: 9 months (expanded hours) to 4 at 31 August; lists of two-year-olds
                    "early_years_census": (0, 4), "eligible_two_year_olds": (0, 3)}


def _impossible_value_rules(source: str) -> list:
    """Dates of birth in the future, and ages a pupil of the file's stage (or year group) cannot have."""
    rules = [gx.expectations.ExpectColumnValuesToBeBetween(
        column="dob_days_after_today", max_value=0,
        meta=_meta("dob_in_future", "error", "the date of birth is in the future", "correct the date of birth",
                   blame="dob"))]
    if source == "census":
        rules.append(gx.expectations.ExpectColumnValuesToBeBetween(
            column="census_date_days_after_today", max_value=0,
            meta=_meta("census_date_in_future", "error", "the census date is in the future",
                       "correct the census date (the census day the return is for)", blame="census_date")))
    elif source != "schools":
        rules.append(gx.expectations.ExpectColumnValuesToBeBetween(
            column="academic_years_ahead", max_value=0,
            meta=_meta("academic_year_in_future", "error", "the academic year has not started yet",
                       "correct the academic year (2023/24 is the year from September 2023)", blame="academic_year")))
    if source in SCHOOL_AGE_RANGE:
        lo, hi = SCHOOL_AGE_RANGE[source]
        rules.append(gx.expectations.ExpectColumnValuesToBeBetween(
            column="age_years", min_value=lo, max_value=hi,
            meta=_meta("age_out_of_range", "error", f"age at 31 August is outside {lo} to {hi}, the ages a pupil on a "
                                                     f"{source.replace('_', ' ')} file can have",
                       "correct the date of birth (or the academic year)", blame="dob", show=["age_note"])))
    if source in ("census", "attainment"):
        fix = "check the date of birth and the year group; a pupil taught out of their year group needs no change"
        rules += [
            gx.expectations.ExpectColumnValuesToBeBetween(
                column="nc_year_age_gap_soft", min_value=-(AGE_GAP_WARNING - 1), max_value=AGE_GAP_WARNING - 1,
                meta=_meta("age_fits_nc_year", "warning", "age at 31 August is two years from the year group's age",
                           fix, blame=["nc_year", "dob"], show=["dob", "age_note"])),
            gx.expectations.ExpectColumnValuesToBeBetween(
                column="nc_year_age_gap", min_value=-(AGE_GAP_ERROR - 1), max_value=AGE_GAP_ERROR - 1,
                meta=_meta("age_outside_stage", "error", "age at 31 August is impossible for the year group or stage "
                                                         "(three or more years from its age)",
                           "correct the date of birth or the year group", blame=["nc_year", "dob"],
                           show=["dob", "age_note"])),
        ]
    return rules


def _key_rules(columns: list[str]) -> list:
    """The columns that say which school and term a row belongs to: never blank (a blank one would
    make the upload supersede nothing, or the wrong rows)."""
    words = {"laestab": "LAESTAB", "academic_year": "academic year", "census_date": "census date"}
    return [gx.expectations.ExpectColumnValuesToNotBeNull(
        column=c, meta=_meta(f"{c}_missing", "error", f"the {words[c]} is missing", f"give the {words[c]} on every row"))
        for c in columns]


def _laestab_shape() -> list:
    return [gx.expectations.ExpectColumnValuesToBeBetween(
        column="laestab", min_value=1000000, max_value=9999999,
        meta=_meta("laestab_number", "error", "LAESTAB must be 7 digits", "LA code (3 digits) then establishment number"))]


def _in_set(column: str, values: Iterable[str], rule: str, what: str, severity: str = "error", **kw):
    values = list(values)
    shown = ", ".join(values[:20]) + (" ..." if len(values) > 20 else "")
    return gx.expectations.ExpectColumnValuesToBeInSet(
        column=column, value_set=values, meta=_meta(rule, severity, f"not a valid {what}", f"use one of: {shown}"), **kw)


def _upn_rules(unique_with: list[str]) -> list:
    return [
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="upn", meta=_meta("upn_missing", "error", "UPN is missing (census error 1500)",
                                     "every pupil needs their 13-character UPN")),
        ExpectColumnValuesToBeValidUpn(
            column="upn", meta=_meta("upn_check_letter", "error",
                                     "UPN check letter is wrong or the UPN is malformed (census error 1510)",
                                     "correct the UPN in the MIS from the pupil's record or CTF")),
        # "upload": several uploads are validated in one run; a pupil may appear once per upload
        gx.expectations.ExpectCompoundColumnsToBeUnique(
            column_list=["upload", "upn", *unique_with],
            meta=_meta("upn_duplicate", "error", "the same pupil appears more than once (census error 1520)",
                       "remove the duplicate row, or merge the two pupil records in the MIS", blame="upn",
                       show=[c for c in unique_with if c != "subject"])),
    ]


def _laestab_rule(known_laestabs: list[int] | None) -> list:
    if not known_laestabs:
        return []
    return [gx.expectations.ExpectColumnValuesToBeInSet(
        column="laestab", value_set=list(known_laestabs),
        meta=_meta("laestab_unknown", "error", "LAESTAB is not a school in the schools reference",
                   "check the DfE number, or upload an updated schools reference first"))]


# --- CBDS code sets: every code of the seeds, and each used only while it is in force -------------------
# (docs/methodology.md#cbds-code-sets)
CBDS_WORDS = {"ethnicity": "ethnicity code", "first_language": "first language code", "sen_provision": "SEN provision",
              "sen_primary_need": "SEN type of need", "nc_year": "NC year", "enrol_status": "enrolment status"}


def _cbds_rules() -> list:
    """A language code not in the CBDS list is a warning (the list Pathways holds is DfE's 2017/18 one,
    so a newer code may be right); a code used outside the dates it is in force is a warning naming them."""
    rules = [_in_set("first_language", cs.LANGUAGES, "first_language_unknown", "CBDS first language code",
                     severity="warning")]
    for column, words in CBDS_WORDS.items():
        rules.append(gx.expectations.ExpectColumnValuesToNotBeInSet(
            column=f"{column}_out_of_use", value_set=[True],
            meta=_meta(f"{column}_out_of_use", "warning",
                       f"this {words} was not in use on the census date (CBDS code set dates)",
                       "use the code in force on the census date (see docs/methodology.md#cbds-code-sets)",
                       blame=column, show=["census_date"])))
    return rules


def census_rules(known_laestabs: list[int] | None) -> list:
    return [
        *_upn_rules(["laestab"]),
        ExpectColumnValuesToBeValidUln(
            column="uln", meta=_meta("uln_check_digit", "error", "ULN check digit is wrong",
                                     "correct the ULN from the Learning Records Service")),
        _in_set("sex", cs.SEX, "sex_code", "gender code"),
        _in_set("ethnicity", cs.ethnicity_codes(), "ethnicity_code", "ethnicity code"),
        gx.expectations.ExpectColumnValuesToMatchRegex(
            column="first_language", regex=r"^[A-Z]{3,4}$",
            meta=_meta("first_language_code", "error", "not a first-language code",
                       "use ENG, ENB, OTB, NOT or a 3-4 letter language code (e.g. URD, POL)")),
        *_cbds_rules(),
        _in_set("nc_year", cs.NC_YEARS, "nc_year_code", "national curriculum year"),
        _in_set("enrol_status", cs.ENROL_STATUS, "enrol_status_code", "enrolment status"),
        _in_set("sen_provision", cs.SEN_PROVISION, "sen_provision_code", "SEN provision (N, K, E)"),
        _in_set("sen_primary_need", cs.sen_primary_needs(), "sen_need_code", "SEN primary need"),
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="sen_primary_need", row_condition=Column("sen_provision").is_in(cs.sen_provisions_needing_a_need()),
            meta=_meta("sen_need_required", "error", "a pupil on SEN support or with an EHC plan needs a primary need",
                       "record the primary need (census rules 2165-2175)", show=["sen_provision"])),
        gx.expectations.ExpectColumnValuesToBeNull(
            column="sen_primary_need", row_condition=Column("sen_provision") == "N",
            meta=_meta("sen_need_without_provision", "error", "a primary need is recorded but SEN provision is N",
                       "set the provision to K or E, or clear the need", show=["sen_provision"])),
        gx.expectations.ExpectColumnValuesToNotBeInSet(
            column="sen_primary_need", value_set=["NSA"], row_condition=Column("sen_provision") != "K",
            meta=_meta("sen_nsa_only_with_support", "error", "NSA (no specialist assessment) is only valid with SEN support (K)",
                       "record the assessed need, or change the provision", show=["sen_provision"])),
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="dob", meta=_meta("dob_missing", "error", "date of birth is missing or not a date",
                                     "write dates as DD/MM/YYYY")),
        gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="census_date", column_B="entry_date", or_equal=True, ignore_row_if="either_value_is_missing",
            meta=_meta("entry_after_census", "error", "entry date is after the census date",
                       "correct the entry date; a pupil who joined after census day belongs in the next census",
                       blame="entry_date", show=["census_date"])),
        *_key_rules(["census_date", "laestab"]),
        *_laestab_shape(),
        *_impossible_value_rules("census"),
        *_laestab_rule(known_laestabs),
    ]


def attendance_rules(known_laestabs: list[int] | None) -> list:
    rules = [*_upn_rules(["laestab", "academic_year", "term"]), *_laestab_rule(known_laestabs),
             *_key_rules(["academic_year", "laestab"]), *_laestab_shape(), *_impossible_value_rules("attendance"),
             gx.expectations.ExpectColumnValuesToBeBetween(
                 column="possible_sessions", max_value=MAX_SESSIONS_PER_TERM,
                 meta=_meta("sessions_exceed_term", "error",
                            f"more possible sessions than a term can hold ({MAX_SESSIONS_PER_TERM}: two a day, 16 weeks)",
                            "give the possible sessions of this one term"))]
    for col in ("possible_sessions", "authorised_absence_sessions", "unauthorised_absence_sessions"):
        rules.append(gx.expectations.ExpectColumnValuesToNotBeNull(
            column=col, meta=_meta("sessions_missing", "error", "sessions are missing", "give whole numbers of sessions")))
        rules.append(gx.expectations.ExpectColumnValuesToBeBetween(
            column=col, min_value=0, meta=_meta("sessions_negative", "error", "sessions cannot be negative",
                                                "correct the session count")))
    rules.append(gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="possible_sessions", column_B="absence_sessions", or_equal=True, ignore_row_if="either_value_is_missing",
        meta=_meta("absence_exceeds_possible", "error",
                   "authorised plus unauthorised absence is more than the possible sessions",
                   "correct the absence or possible sessions for this pupil",
                   show=["authorised_absence_sessions", "unauthorised_absence_sessions"])))
    rules.append(gx.expectations.ExpectColumnValuesToNotBeNull(
        column="term", meta=_meta("term_code", "error", "term is not Autumn, Spring or Summer", "use Autumn, Spring or Summer")))
    return rules


def pupil_premium_rules(known_laestabs: list[int] | None) -> list:
    return [*_upn_rules(["academic_year"]), *_laestab_rule(known_laestabs), *_key_rules(["academic_year", "laestab"]),
            *_laestab_shape(), *_impossible_value_rules("pupil_premium"),
            gx.expectations.ExpectColumnValuesToNotBeNull(
                column="ever6_fsm", meta=_meta("yes_no_value", "error", "Ever 6 FSM must be Y or N", "use Y or N"))]


def attainment_rules(stage: str, known_laestabs: list[int] | None) -> list:
    rules = [*_upn_rules(["subject"]), *_laestab_rule(known_laestabs), *_key_rules(["academic_year", "laestab"]),
             *_laestab_shape(), *_impossible_value_rules("attainment")]
    if stage == "eyfsp":
        rules.append(_in_set("result", cs.ELG_VALUES, "elg_value", "early learning goal result (1, 2 or A)"))
    elif stage == "phonics":
        rules.append(gx.expectations.ExpectColumnValuesToMatchRegex(
            column="result", regex=r"^([0-9]|[1-3][0-9]|40)$", row_condition=Column("subject") == "phonics_mark",
            meta=_meta("phonics_mark", "error", "phonics mark must be a whole number from 0 to 40",
                       "give the mark, or leave it blank and put the reason code in the outcome")))
        rules.append(_in_set("result", cs.PHONICS_OUTCOMES, "phonics_outcome", "phonics outcome (Wa, Wt, A, D, L, Q)",
                             row_condition=Column("subject") == "phonics_outcome"))
    elif stage == "ks1":
        rules.append(_in_set("result", cs.KS1_TA, "ks1_ta_code", "KS1 teacher assessment code"))
    elif stage == "ks2":
        rules.append(gx.expectations.ExpectColumnValuesToMatchRegex(
            column="result", regex=r"^(8[0-9]|9[0-9]|1[01][0-9]|120|[ABJLMQTUN])$",
            row_condition=Column("subject").is_in(["reading", "maths", "gps"]),
            meta=_meta("ks2_scaled_score", "error", "KS2 test result must be a scaled score 80-120 or a result code",
                       "give the scaled score, or A, B, J, L, M, Q, T, U or N")))
        rules.append(_in_set("result", cs.KS2_WRITING_TA, "ks2_writing_ta", "KS2 writing teacher assessment",
                             row_condition=Column("subject") == "writing"))
    elif stage == "ks4":
        rules.append(_in_set("result", cs.GCSE_GRADES, "gcse_grade", "GCSE grade (9-1, U or X)"))
    return rules


def _formula_like_name(column: str) -> list:
    """A name a spreadsheet would run as a formula (docs/methodology.md#published-text): loaded, because
    the publication neutralises it, but the data lead is told so the name can be corrected at source."""
    return [gx.expectations.ExpectColumnValuesToNotMatchRegex(
        column=column, regex=FORMULA_START_PATTERN,
        meta=_meta("name_formula_like", "warning",
                   "the name begins with =, +, -, @, a tab or a carriage return, so a spreadsheet would run it as a formula",
                   "correct the name at source; Pathways publishes it with a leading apostrophe so it never runs"))]


def schools_rules() -> list:
    return [
        *_formula_like_name("school_name"),
        *_key_rules(["laestab"]),
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="urn", meta=_meta("urn_missing", "error", "the URN is missing", "give every school its 6-digit URN")),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="urn", min_value=100000, max_value=999999,
            meta=_meta("urn_number", "error", "URN must be 6 digits", "copy the URN from Get Information About Schools")),
        gx.expectations.ExpectCompoundColumnsToBeUnique(
            column_list=["upload", "urn"], meta=_meta("urn_duplicate", "error", "the same URN appears twice", "keep one row per URN",
                                      blame="urn")),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="laestab", min_value=1000000, max_value=9999999,
            meta=_meta("laestab_number", "error", "LAESTAB must be 7 digits", "LA code (3 digits) then establishment number")),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="predecessor_urn", min_value=100000, max_value=999999,
            meta=_meta("urn_number", "error", "URN must be 6 digits", "copy the URN from Get Information About Schools")),
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="learning_community_code",
            meta=_meta("learning_community_missing", "error", "every school needs a learning community",
                       "add the school's learning community code")),
    ]


def learning_communities_rules() -> list:
    return [
        *_formula_like_name("learning_community_name"),
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="learning_community_code",
            meta=_meta("learning_community_code_missing", "error", "the learning community code is missing",
                       "give every learning community its code")),
        gx.expectations.ExpectCompoundColumnsToBeUnique(
            column_list=["upload", "learning_community_code"],
            meta=_meta("learning_community_duplicate", "error", "the same learning community code appears twice",
                       "keep one row per learning community", blame="learning_community_code")),
    ]


# --- GIAS links and learning-community membership (docs/methodology.md#gias-extracts) -----------------

def school_links_rules() -> list:
    """The GIAS links file: every row links two URNs with a link type."""
    urn_fix = "the links file is used as GIAS publishes it: download it again from Get Information About Schools"
    return [
        *[gx.expectations.ExpectColumnValuesToNotBeNull(
            column=c, meta=_meta("urn_missing", "error", "the URN is missing", urn_fix)) for c in ("urn", "link_urn")],
        *[gx.expectations.ExpectColumnValuesToBeBetween(
            column=c, min_value=100000, max_value=999999,
            meta=_meta("urn_number", "error", "URN must be 6 digits", urn_fix)) for c in ("urn", "link_urn")],
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="link_type", meta=_meta("link_type_missing", "error", "the link type is missing", urn_fix)),
    ]


def community_membership_rules(known_laestabs: list[int] | None) -> list:
    """One community per school; each school named by a 6-digit URN or a 7-digit LAESTAB."""
    rules = [
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="learning_community_code",
            meta=_meta("learning_community_missing", "error", "every school needs a learning community",
                       "add the school's learning community code")),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="urn", min_value=100000, max_value=999999,
            meta=_meta("urn_number", "error", "URN must be 6 digits", "copy the URN from Get Information About Schools")),
        gx.expectations.ExpectCompoundColumnsToBeUnique(
            column_list=["upload", "urn"], ignore_row_if="any_value_is_missing",
            meta=_meta("urn_duplicate", "error", "the same URN appears twice", "list each school once, in one community",
                       blame="urn")),
        *_laestab_shape(),
        gx.expectations.ExpectCompoundColumnsToBeUnique(
            column_list=["upload", "laestab"], ignore_row_if="any_value_is_missing",
            meta=_meta("laestab_duplicate", "error", "the same LAESTAB appears twice",
                       "list each school once, in one community", blame="laestab")),
    ]
    if known_laestabs:
        rules.append(gx.expectations.ExpectColumnValuesToBeInSet(
            column="laestab", value_set=known_laestabs,
            meta=_meta("unknown_school", "warning", "no school with this LAESTAB is in the schools reference",
                       "check the LAESTAB, or load the GIAS extract that lists the school first")))
    return rules


# --- Ofsted management information (docs/methodology.md#ofsted-inspections) --------------------------

def ofsted_inspections_rules(known_laestabs: list[int] | None) -> list:
    """Each grade one its framework uses; an inspection once per school in a file; dates in order."""
    fix = "the file is used as Ofsted publishes it: download it again, or correct the cell to one of Ofsted's grades"
    rules = [
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="urn", meta=_meta("urn_missing", "error", "the URN is missing", "give every school its 6-digit URN")),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="urn", min_value=100000, max_value=999999,
            meta=_meta("urn_number", "error", "URN must be 6 digits", "copy the URN from Ofsted's file")),
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="publication_date", meta=_meta("publication_date_missing", "error",
                                                  "the inspection has grades but no publication date",
                                                  "give the date the report was published (DD/MM/YYYY)")),
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="grade_is_valid", value_set=[True],
            meta=_meta("ofsted_grade", "error", "not a grade of this judgement's framework (EIF 1-4 or 9; report card "
                                                "Exceptional, Strong standard, Expected standard, Needs attention, "
                                                "Urgent improvement; safeguarding Yes/No or Met/Not met; category SM, "
                                                "SWK or RSI)", fix, blame="grade")),
        gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="publication_date", column_B="inspection_start_date", or_equal=True,
            ignore_row_if="either_value_is_missing",
            meta=_meta("published_before_inspection", "error", "the report is published before the inspection started",
                       "correct the inspection start date or the publication date", blame="publication_date",
                       show=["inspection_start_date"])),
        gx.expectations.ExpectCompoundColumnsToBeUnique(
            column_list=["upload", "urn", "publication_date", "judgement"],
            meta=_meta("urn_duplicate", "error", "the same school appears twice in the file",
                       "keep one row per URN, as Ofsted's file has", blame="urn")),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="publication_days_after_today", max_value=0,
            meta=_meta("publication_date_in_future", "error", "the publication date is in the future",
                       "correct the publication date", blame="publication_date")),
    ]
    if known_laestabs:
        rules.append(gx.expectations.ExpectColumnValuesToBeInSet(
            column="laestab", value_set=known_laestabs,
            meta=_meta("unknown_school", "warning", "no school with this LAESTAB is in the schools reference",
                       "nothing to do for a school outside the learning communities; otherwise load the schools "
                       "reference that lists it first")))
    return rules


# --- the census exclusions module (docs/methodology.md#exclusions) ------------------------------------

def exclusions_rules(known_laestabs: list[int] | None) -> list:
    """Each exclusion once per return, with a category and reasons of the census code sets in use in its
    year, sessions a suspension can have, and a start date before the census that returns it."""
    from ingest.exclusions import MAX_SUSPENSION_SESSIONS

    reasons = list(cs.exclusion_reasons())
    rules = [
        *_upn_rules(["laestab"])[:2],
        gx.expectations.ExpectCompoundColumnsToBeUnique(
            column_list=["upload", "upn", "laestab", "exclusion_category", "exclusion_start_date"],
            meta=_meta("exclusion_duplicate", "error", "the same exclusion (pupil, school, category and start date) "
                                                       "is on the return twice",
                       "remove the duplicate row", blame="upn", show=["exclusion_category", "exclusion_start_date"])),
        *_key_rules(["census_date", "laestab"]), *_laestab_shape(), *_laestab_rule(known_laestabs),
        *_impossible_value_rules("exclusions"),
        _in_set("exclusion_category", cs.exclusion_categories(), "exclusion_category",
                "exclusion category (PERM permanent, SUSP suspension)"),
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="exclusion_start_date", meta=_meta("exclusion_start_date_missing", "error",
                                                      "the exclusion has no start date",
                                                      "give the first day of the exclusion (DD/MM/YYYY)")),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="start_days_after_today", max_value=0,
            meta=_meta("exclusion_start_in_future", "error", "the exclusion starts in the future",
                       "correct the start date", blame="exclusion_start_date")),
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="starts_after_census", value_set=[False],
            meta=_meta("exclusion_after_census", "error", "the exclusion starts after the census day of the return "
                                                          "that reports it (the census collects earlier terms)",
                       "correct the start date or the census date", blame="exclusion_start_date",
                       show=["census_date"])),
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="reason_given", value_set=[True],
            meta=_meta("exclusion_reason_missing", "error", "a suspension or permanent exclusion needs a reason",
                       "give the reason code (census reason for exclusion)", blame="exclusion_reason")),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="exclusion_sessions", min_value=0,
            meta=_meta("sessions_negative", "error", "sessions cannot be negative", "correct the session count")),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="suspension_sessions", min_value=1, max_value=MAX_SUSPENSION_SESSIONS,
            meta=_meta("suspension_sessions", "error",
                       f"a suspension is 1 to {MAX_SUSPENSION_SESSIONS} sessions (at most 45 school days a year)",
                       "give the sessions (half-days) the pupil was suspended from", blame="exclusion_sessions")),
    ]
    for c in ("exclusion_reason", "exclusion_reason_2", "exclusion_reason_3"):
        rules.append(_in_set(c, reasons, "exclusion_reason", "reason for exclusion"))
        rules.append(gx.expectations.ExpectColumnValuesToBeInSet(
            column=f"{c}_in_use", value_set=[True],
            meta=_meta("exclusion_reason_out_of_use", "error",
                       "the reason code was not in use in the exclusion's year (OT ended in 2019/20; OW, LG, DS, MT "
                       "and PH began in 2020/21)", "use a reason code of the census in that year", blame=c)))
    return rules


# --- post-16 activity tracking (docs/methodology.md#post-16-participation-and-neet) -------------------------

def post16_activity_rules(known_laestabs: list[int] | None) -> list:
    """Each young person once per snapshot, with an NCCIS activity code, a snapshot date not in the
    future and an activity that started by it; ages 15 to 25 (up to 25 with an EHC plan)."""
    rules = [
        *_upn_rules(["snapshot_date"]),
        *_impossible_value_rules("post16_activity"),
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="activity_code", value_set=list(cs.nccis_activity_codes()),
            meta=_meta("activity_code", "error", "not an NCCIS activity code",
                       "use a 3-digit code of DfE's NCCIS guidance (210 school sixth form, 310 apprenticeship, 619 "
                       "seeking education, employment or training, 810 not known, ...)")),
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="snapshot_date", meta=_meta("snapshot_date_missing", "error", "the snapshot (month-end) date is missing",
                                               "give the month-end date of the snapshot (DD/MM/YYYY)")),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="snapshot_days_after_today", max_value=0,
            meta=_meta("snapshot_in_future", "error", "the snapshot date is in the future", "correct the snapshot date",
                       blame="snapshot_date")),
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="activity_starts_after_snapshot", value_set=[False],
            meta=_meta("activity_after_snapshot", "error", "the activity starts after the snapshot date",
                       "correct the activity start date", blame="activity_start_date", show=["snapshot_date"])),
        _in_set("send_status", ["E", "K", "N"], "send_status", "SEND status (E EHC plan, K SEN support, N none)"),
    ]
    if known_laestabs:
        rules.append(gx.expectations.ExpectColumnValuesToBeInSet(
            column="y11_laestab", value_set=list(known_laestabs),
            meta=_meta("unknown_school", "warning", "the Year 11 school is not in the schools reference",
                       "nothing to do for a school outside the authority; otherwise load the schools reference first")))
    return rules


# --- funded early education (docs/methodology.md#funded-early-education) -----------------------------------

def _postcode_rule() -> list:
    return [gx.expectations.ExpectColumnValuesToBeInSet(
        column="postcode_valid", value_set=[True],
        meta=_meta("postcode", "error", "not a UK postcode (the home postcode places the child in a learning community)",
                   "give the full postcode of the child's home, as S60 1AB", blame="home_postcode"))]


def early_years_census_rules() -> list:
    """Each child once per setting, at a setting with an authority-issued URN, funded hours of the
    entitlements (at most 15 a week each), bases for funding a two-year-old and SEN provision of the census
    code sets, and a home postcode."""
    from ingest.early_years import SETTING_URN_RANGE, TWO_YEAR_OLD_BASES

    lo, hi = SETTING_URN_RANGE
    hours = "funded hours are weekly hours of a 15-hour entitlement (570 a year over 38 weeks)"
    return [
        *_upn_rules(["setting_urn"]),
        *_impossible_value_rules("early_years_census"),
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="census_date", meta=_meta("census_date_missing", "error", "the census date is missing",
                                             "give the January census date on every row (DD/MM/YYYY)")),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="census_date_days_after_today", max_value=0,
            meta=_meta("census_date_in_future", "error", "the census date is in the future", "correct the census date",
                       blame="census_date")),
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="setting_urn", meta=_meta("setting_urn_missing", "error", "the setting URN is missing",
                                             "give the URN the authority issued to the setting")),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="setting_urn", min_value=lo, max_value=hi,
            meta=_meta("setting_urn_range", "error", f"an early years setting's URN is in the range {lo} to {hi}",
                       "give the URN the authority issued to the setting (not its Ofsted EY URN)")),
        *[gx.expectations.ExpectColumnValuesToBeBetween(
            column=c, min_value=0, max_value=15,
            meta=_meta("funded_hours_range", "error", f"{hours}: 0 to 15", "correct the weekly funded hours"))
          for c in ("funded_hours", "extended_hours")],
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="basis_valid", value_set=[True],
            meta=_meta("two_year_old_basis", "error", "not a basis for funding a two-year-old",
                       "use ECO (economic criteria), HSD (high-level SEN or disability) or LAA (looked after or "
                       f"adopted from care), several separated by ';' ({', '.join(TWO_YEAR_OLD_BASES)})",
                       blame="two_year_old_basis")),
        _in_set("sen_provision", ["N", "K", "E"], "sen_provision", "SEN provision (N none, K SEN support, E EHC plan)"),
        *_postcode_rule(),
    ]


def eligible_two_year_olds_rules() -> list:
    """Each child once per list, with a list date not in the future, a basis of the census code set and a
    home postcode."""
    from ingest.early_years import TWO_YEAR_OLD_BASES

    return [
        *_upn_rules(["list_date"]),
        *_impossible_value_rules("eligible_two_year_olds"),
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="list_date", meta=_meta("list_date_missing", "error", "the date of the list is missing",
                                           "give the date of the list on every row (DD/MM/YYYY)")),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="list_date_days_after_today", max_value=0,
            meta=_meta("list_date_in_future", "error", "the list date is in the future", "correct the list date",
                       blame="list_date")),
        _in_set("eligibility_basis", list(TWO_YEAR_OLD_BASES), "eligibility_basis",
                "basis of eligibility (ECO economic criteria, HSD high-level SEN or disability, LAA looked after or "
                "adopted from care)"),
        *_postcode_rule(),
    ]


def home_areas_rules() -> list:
    return [
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="postcode_sector", meta=_meta("postcode_sector_missing", "error", "the postcode sector is missing",
                                                 "give every row its postcode sector (S60 1)")),
        gx.expectations.ExpectColumnValuesToMatchRegex(
            column="postcode_sector", regex=r"^[A-Z]{1,2}[0-9][0-9A-Z]? [0-9]$",
            meta=_meta("postcode_sector", "error", "not a postcode sector", "write the sector as S60 1")),
        gx.expectations.ExpectCompoundColumnsToBeUnique(
            column_list=["upload", "postcode_sector"],
            meta=_meta("postcode_sector_duplicate", "error", "the same postcode sector appears twice",
                       "keep one row per sector (a sector in two communities: give it to the one most homes are in)",
                       blame="postcode_sector")),
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="learning_community_code",
            meta=_meta("learning_community_code_missing", "error", "the learning community code is missing",
                       "give every sector its learning community")),
    ]


def population_estimates_rules() -> list:
    from ingest.early_years import POPULATION_AGE_RANGE
    lo, hi = POPULATION_AGE_RANGE
    return [
        *[gx.expectations.ExpectColumnValuesToNotBeNull(
            column=c, meta=_meta(f"{c}_missing", "error", f"the {what} is missing", fix))
          for c, what, fix in (("postcode_sector", "postcode sector", "give every row its postcode sector (S60 1)"),
                               ("mid_year", "year of the mid-year estimate", "give the estimate's year (2023)"),
                               ("age_at_mid_year", "age", "give the age in whole years (3)"),
                               ("population", "population", "give the number of residents (0 if none)"))],
        gx.expectations.ExpectColumnValuesToMatchRegex(
            column="postcode_sector", regex=r"^[A-Z]{1,2}[0-9][0-9A-Z]? [0-9]$",
            meta=_meta("postcode_sector", "error", "not a postcode sector", "write the sector as S60 1")),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="age_at_mid_year", min_value=lo, max_value=hi,
            meta=_meta("age_range", "error", f"an age in a mid-year estimate is {lo} to {hi} (90: 90 and over)",
                       "correct the age")),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="mid_year", min_value=2001, max_value=2100,
            meta=_meta("mid_year_range", "error", "the year of a mid-year estimate is 2001 or later",
                       "write the estimate's year in full (2023)")),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="population", min_value=0,
            meta=_meta("population_negative", "error", "a population cannot be negative", "correct the population")),
        gx.expectations.ExpectCompoundColumnsToBeUnique(
            column_list=["upload", "postcode_sector", "mid_year", "age_at_mid_year"],
            meta=_meta("population_duplicate", "error", "the same sector, year and age appears twice",
                       "keep one row per sector, mid-year and age (add the parts together)",
                       blame="population")),
    ]


def rules_for(source: str, stage: str | None, known_laestabs: list[int] | None = None) -> list:
    if source == "census":
        return census_rules(known_laestabs)
    if source == "attendance":
        return attendance_rules(known_laestabs)
    if source == "pupil_premium":
        return pupil_premium_rules(known_laestabs)
    if source == "attainment":
        return attainment_rules(stage or "", known_laestabs)
    if source == "schools":
        return schools_rules()
    if source == "learning_communities":
        return learning_communities_rules()
    if source == "school_links":
        return school_links_rules()
    if source == "community_membership":
        return community_membership_rules(known_laestabs)
    if source == "ofsted_inspections":
        return ofsted_inspections_rules(known_laestabs)
    if source == "exclusions":
        return exclusions_rules(known_laestabs)
    if source == "post16_activity":
        return post16_activity_rules(known_laestabs)
    if source == "early_years_census":
        return early_years_census_rules()
    if source == "eligible_two_year_olds":
        return eligible_two_year_olds_rules()
    if source == "home_areas":
        return home_areas_rules()
    if source == "population_estimates":
        return population_estimates_rules()
    return []
