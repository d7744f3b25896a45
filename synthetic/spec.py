"""What the synthetic borough looks like: sizes, shares and calibration targets.

Every number here is a setting of ``BoroughSpec``; the defaults model Rotherham (LA 372).
National targets come from DfE releases (docs/methodology.md#national-benchmarks); the borough sits a little
below national (``la_offset_pp``), as Rotherham does. Years are the academic year's start
(2023 means 2023/24, results in summer 2024).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# National all-pupil rates (%), by academic-year start. Missing years had no assessment.
NATIONAL_GLD = {2016: 70.7, 2017: 71.5, 2018: 71.8, 2021: 65.2, 2022: 67.2, 2023: 67.7, 2024: 68.3}
NATIONAL_PHONICS_Y1 = {2016: 81, 2017: 82, 2018: 82, 2021: 75, 2022: 79, 2023: 80, 2024: 80}
NATIONAL_KS1_EXPECTED = {  # reading, writing, maths
    2016: (76, 68, 75), 2017: (75, 70, 76), 2018: (75, 69, 76), 2021: (67, 58, 68), 2022: (68, 60, 70),
}
NATIONAL_KS2_RWM = {2016: 61, 2017: 64, 2018: 65, 2021: 59, 2022: 60, 2023: 61, 2024: 62}
NATIONAL_KS4_BASICS_5 = {  # grade 5+ in English and maths, all pupils
    2016: 42.2, 2017: 43.0, 2018: 43.2, 2019: 49.9, 2020: 51.9, 2021: 49.8, 2022: 45.3, 2023: 45.9, 2024: 45.9,
}
NATIONAL_ABSENCE = {  # overall absence rate %, all terms
    2016: 4.7, 2017: 4.8, 2018: 4.7, 2019: 4.6, 2020: 5.1, 2021: 7.6, 2022: 7.4, 2023: 7.1, 2024: 6.9,
}

# No national assessments in 2019/20 and 2020/21 (COVID): those years are absent from the
# dicts above. KS1 statutory until 2022/23.
LAST_KS1_YEAR = 2022


@dataclass(frozen=True)
class BoroughSpec:
    seed: int = 372
    la_code: int = 372
    la_name: str = "Rotherham"
    first_year: int = 2016
    last_year: int = 2024
    pupils_on_roll: int = 55_000
    n_learning_communities: int = 16
    collaboratives: tuple[str, ...] = ("North", "Central", "South")
    primary_schools_per_learning_community: int = 6
    n_special_schools: int = 4
    n_pupil_referral_units: int = 1
    # planted trends (1-based learning community numbers, capped at the number of communities)
    narrowing_learning_community: int = 3
    widening_learning_community: int = 11
    # suspensions and permanent exclusions rising year on year (synthetic/exclusions.py)
    exclusions_rising_learning_community: int = 7
    # young people NEET more often year on year, by their Year 11 school's community (synthetic/post16.py)
    neet_rising_learning_community: int = 13
    # shares (of pupils) the borough is calibrated to
    fsm_rate_first_year: float = 0.15
    fsm_rate_last_year: float = 0.21
    sen_support_rate: float = 0.13
    ehc_plan_rate_first_year: float = 0.028
    ehc_plan_rate_last_year: float = 0.040
    cla_rate: float = 0.008
    plac_rate: float = 0.005
    service_child_rate: float = 0.003
    yearly_leave_rate: float = 0.03
    grt_yearly_leave_rate: float = 0.18
    mid_year_move_rate: float = 0.03
    sixth_form_stay_rate: float = 0.45
    nursery_attendance_rate: float = 0.35
    la_offset_pp: float = -2.0
    # LA codes in joiners' UPNs (pupils who arrive from elsewhere): Rotherham's neighbours. Empty
    # keeps every UPN in this authority's own range, as several authorities in one inbox need.
    joiner_la_codes: tuple[int, ...] = (370, 371, 373, 380, 383, 830)
    xlsx_sources: frozenset[str] = field(default_factory=lambda: frozenset({"ks2", "pupil_premium"}))
    # how the schools reference arrives: "gias" (a GIAS establishment extract, its links file and a
    # learning-community membership file, as an authority downloads them) or "pathways" (one schools.csv
    # with LAESTAB, community and predecessor on each row)
    reference_format: str = "gias"

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))

    @property
    def planted_narrowing(self) -> str:
        return f"LC{min(self.narrowing_learning_community, max(self.n_learning_communities - 1, 1)):02d}"

    @property
    def planted_exclusions_rising(self) -> str:
        return f"LC{min(self.exclusions_rising_learning_community, self.n_learning_communities):02d}"

    @property
    def planted_neet_rising(self) -> str:
        return f"LC{min(self.neet_rising_learning_community, self.n_learning_communities):02d}"

    @property
    def planted_widening(self) -> str:
        return f"LC{min(self.widening_learning_community, self.n_learning_communities):02d}"


def small_borough(seed: int = 7) -> BoroughSpec:
    """The test fixture: 2 learning communities, a few thousand pupils, 3 years."""
    return BoroughSpec(
        seed=seed,
        first_year=2022,
        last_year=2024,
        pupils_on_roll=3_000,
        n_learning_communities=2,
        collaboratives=("North",),
        primary_schools_per_learning_community=4,
        n_special_schools=1,
        n_pupil_referral_units=1,
        reference_format="pathways",
    )
