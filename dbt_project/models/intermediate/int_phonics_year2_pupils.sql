-- One row per pupil in the "phonics by the end of Year 2" cohort of a year (docs/methodology.md#cohort-phonics-by-end-of-year-2).
-- Business rules (DfE phonics screening check methodology, from 2023/24):
--   * in the cohort: a pupil with a valid Year 2 check result this year, counted at the school on
--     that record; or a pupil with a valid Year 1 result last year who is on roll at this year's
--     January census, counted at that census school;
--   * met by the end of Year 2 = met the standard in Year 1 or in the Year 2 check;
--   * a pupil whose Year 1 result is held but who is not on the January census (left the
--     authority's schools) is not in the cohort, and a Year 2 pupil whose Year 1 result was
--     taken outside the authority is unknown unless they retook the check: both are counted in
--     int_cohort_reconciliation, not here;
--   * only years in which a check took place (none in 2019/20 and 2020/21).
with year1 as (
    select pupil_key, academic_year + 1 as academic_year, met_standard
    from {{ ref('int_phonics_pupils') }}
    where nc_year = '1' and has_valid_result
),

year2 as (
    select pupil_key, academic_year, laestab, learning_community_code, met_standard
    from {{ ref('int_phonics_pupils') }}
    where nc_year = '2' and has_valid_result
),

check_years as (
    select distinct academic_year from {{ ref('int_phonics_pupils') }}
),

cohort as (
    select
        year2.pupil_key, year2.academic_year, year2.laestab, year2.learning_community_code,
        year2.met_standard or coalesce(year1.met_standard, false) as met_by_end_of_year_2
    from year2
    left join year1 on year2.pupil_key = year1.pupil_key and year2.academic_year = year1.academic_year
    union all
    select
        year1.pupil_key, year1.academic_year, spine.laestab, spine.learning_community_code,
        year1.met_standard as met_by_end_of_year_2
    from year1
    inner join {{ ref('int_pupil_years') }} as spine
        on year1.pupil_key = spine.pupil_key and year1.academic_year = spine.academic_year
    where not exists (
            select 1 from year2
            where year2.pupil_key = year1.pupil_key and year2.academic_year = year1.academic_year
        )
)

select cohort.*
from cohort
where cohort.academic_year in (select check_years.academic_year from check_years)
