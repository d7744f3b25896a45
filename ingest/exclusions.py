"""The school census exclusions module, pupil level, as schools return it (docs/methodology.md#exclusions).

Each census return carries the suspensions and permanent exclusions of earlier terms (two terms in
arrears, and since the autumn 2019 census one term as well), so the same exclusion arrives in two
returns: the later return of a school's term replaces the earlier (ingest/warehouse.py supersedes by
academic year, term and LAESTAB), and staging keeps one row per pupil, school, category and start
date. One row per exclusion: category (PERM, SUSP; FIXD is the code suspensions had before 2021/22;
LNCH lunchtime, which the census does not count), up to three reasons, sessions, start date.
"""

from __future__ import annotations

from datetime import date, timedelta

# canonical column -> header spellings (merged into ingest.sources.ALIASES)
ALIASES: dict[str, list[str]] = {
    "exclusion_category": ["Category", "ExclusionCategory", "Exclusion Category", "Exclusion Type", "ExclusionType"],
    "exclusion_reason": ["Reason", "ExclusionReason", "Exclusion Reason", "Reason1", "ExclusionReason1"],
    "exclusion_reason_2": ["Reason2", "ExclusionReason2", "Exclusion Reason 2"],
    "exclusion_reason_3": ["Reason3", "ExclusionReason3", "Exclusion Reason 3"],
    "exclusion_start_date": ["StartDate", "ExclusionStartDate", "Exclusion Start Date", "Start Date"],
    "exclusion_sessions": ["Sessions", "ExclusionSessions", "ActualSessions", "Sessions Excluded"],
}
REQUIRED = ("upn", "laestab", "census_date", "exclusion_category", "exclusion_start_date")
OPTIONAL = ("exclusion_reason", "exclusion_reason_2", "exclusion_reason_3", "exclusion_sessions",
            "surname", "forename", "dob", "sex")

# a suspension is at most 45 school days in a year (two sessions a day): one suspension cannot be longer
MAX_SUSPENSION_SESSIONS = 90


def easter_sunday(year: int) -> date:
    """Easter Sunday (Gregorian; the anonymous algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * l_) // 433
    month = (h + l_ - 7 * m + 90) // 25
    return date(year, month, (h + l_ - 7 * m + 33 * month + 19) % 32)


def exclusion_term(start: date) -> tuple[int, str]:
    """(academic year, term) an exclusion belongs to, by its start date, as DfE collects them:
    autumn 1 August - 31 December, spring 1 January - Easter Sunday, summer Easter Monday - 31 July."""
    if start.month >= 8:
        return start.year, "autumn"
    if start <= easter_sunday(start.year):
        return start.year - 1, "spring"
    return start.year - 1, "summer"


def easter_mondays(first: int, last: int) -> dict[int, date]:
    return {y: easter_sunday(y) + timedelta(days=1) for y in range(first, last + 1)}
