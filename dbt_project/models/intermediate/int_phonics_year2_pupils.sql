-- One row per pupil per year in Year 2 with a phonics check in Year 1 (last year) or Year 2
-- (this year's retake). Business rule (DfE): met by the end of Year 2 = met in Year 1 or in the
-- Year 2 retake. The pupil belongs to the school of the retake, else their Year 2 census
-- school, else their Year 1 check school.
with year1 as (
    select pupil_key, academic_year + 1 as academic_year, laestab, met_standard
    from {{ ref('int_phonics_pupils') }}
    where nc_year = '1'
),

year2 as (
    select pupil_key, academic_year, laestab, met_standard
    from {{ ref('int_phonics_pupils') }}
    where nc_year = '2'
),

both_years as (
    select
        coalesce(year2.pupil_key, year1.pupil_key) as pupil_key,
        coalesce(year2.academic_year, year1.academic_year) as academic_year,
        year2.laestab as retake_laestab,
        year1.laestab as year1_laestab,
        coalesce(year1.met_standard, false) or coalesce(year2.met_standard, false) as met_by_end_of_year_2
    from year1
    full outer join year2
        on year1.pupil_key = year2.pupil_key and year1.academic_year = year2.academic_year
)

select
    both_years.pupil_key,
    both_years.academic_year,
    coalesce(both_years.retake_laestab, spine.laestab, both_years.year1_laestab) as laestab,
    est.learning_community_code,
    both_years.met_by_end_of_year_2
from both_years
left join {{ ref('int_pupil_years') }} as spine
    on both_years.pupil_key = spine.pupil_key and both_years.academic_year = spine.academic_year
left join {{ ref('int_establishments') }} as est
    on coalesce(both_years.retake_laestab, spine.laestab, both_years.year1_laestab) = est.laestab
-- only years for which a check exists (no check in 2019/20 and 2020/21 means no Year 2 figure)
where both_years.academic_year in (select distinct checks.academic_year from {{ ref('int_phonics_pupils') }} as checks)
