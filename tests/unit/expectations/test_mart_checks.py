"""The non-blocking check that shows data leads where the two Ever 6 sources disagree."""

import polars as pl

from expectations.marts import BLOCKING, check_disadvantage_sources


def _quality(rows):
    base = {"geographic_level": "Local authority", "old_la_code": "372", "cohort": "census", "cohort_pupils": 1000}
    return pl.DataFrame([{**base, **r} for r in rows])


def test_disagreements_in_the_latest_year_are_a_warning_with_their_counts():
    quality = _quality([
        {"academic_year": 2023, "check_code": "ever6_file_only", "pupils": 40},
        {"academic_year": 2024, "check_code": "ever6_file_only", "pupils": 12},
        {"academic_year": 2024, "check_code": "ever6_census_only_not_on_file", "pupils": 7},
        {"academic_year": 2024, "check_code": "ever6_census_only_file_unflagged", "pupils": 0},
        {"academic_year": 2024, "check_code": "results_not_on_january_census", "pupils": 99},
    ])
    check = check_disadvantage_sources(quality)
    assert not check.passed and not BLOCKING[check.name]
    assert check.failing_rows == 19
    assert "2024/25: 12 of 1000 on roll Ever 6 on the pupil premium file only" in check.description
    assert "7 of 1000 on roll Ever 6 on the census only, not on the pupil premium file" in check.description
    assert "2023/24" not in check.description and "99" not in check.description


def test_sources_that_agree_pass():
    quality = _quality([{"academic_year": 2024, "check_code": "ever6_file_only", "pupils": 0}])
    assert check_disadvantage_sources(quality).passed
