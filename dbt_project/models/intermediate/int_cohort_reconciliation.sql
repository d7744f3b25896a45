-- The pupils each cohort rule leaves out or counts on a weaker footing, one row per pupil (per
-- enrolment, for attendance), year, cohort and check, at the school the check is attributed to
-- (docs/methodology.md#data-quality-counts). The checks and how each is treated are listed once,
-- in the data_quality_checks seed:
--   * results held for a pupil not on the January census, and pupils on the January census in
--     the stage's year group with no result (per stage, in years the stage has results);
--   * phonics: records with no valid result; Year 1 results of pupils not on the next January census;
--   * KS4: results of pupils not in Year 11 on the January census (not counted), and cohort
--     pupils with no results (counted, Attainment 8 of 0);
--   * attendance: enrolments whose age is not known (not counted), and enrolments of pupils not
--     on the January census (counted; characteristics Unclassified);
--   * disadvantage: members whose Ever 6 FSM comes from one source only (the pupil premium file or
--     the census), for every cohort.
with members as (
    select * from {{ ref('int_cohort_members') }}
),

spine as (
    select * from {{ ref('int_pupil_years') }}
),

stage_year_groups as (
    select 'eyfs' as cohort, 0 as nc_year_number
    union all
    select 'phonics_y1', 1
    union all
    select 'phonics_y2', 2
    union all
    select 'ks1', 2
    union all
    select 'ks2', 6
),

cohort_years as (
    select distinct cohort, academic_year from members
),

results_not_on_census as (
    select m.pupil_key, m.academic_year, m.cohort, m.laestab, 'results_not_on_january_census' as check_code
    from members as m
    where m.cohort in (select g.cohort from stage_year_groups as g)
        and not exists (
            select 1 from spine as s
            where s.pupil_key = m.pupil_key and s.academic_year = m.academic_year
        )
),

census_without_result as (
    select s.pupil_key, s.academic_year, g.cohort, s.laestab, 'january_census_no_result' as check_code
    from spine as s
    inner join stage_year_groups as g on s.nc_year_number = g.nc_year_number
    inner join cohort_years as y on g.cohort = y.cohort and s.academic_year = y.academic_year
    where not exists (
            select 1 from members as m
            where m.pupil_key = s.pupil_key and m.academic_year = s.academic_year and m.cohort = g.cohort
        )
        -- a Year 1 pupil whose phonics record has no valid result is reported under no_valid_result
        and not (
            g.cohort = 'phonics_y1' and exists (
                select 1 from {{ ref('int_phonics_pupils') }} as p
                where p.pupil_key = s.pupil_key and p.academic_year = s.academic_year and p.nc_year = '1'
            )
        )
),

phonics_invalid as (
    select pupil_key, academic_year, 'phonics_y1' as cohort, laestab, 'no_valid_result' as check_code
    from {{ ref('int_phonics_pupils') }}
    where nc_year = '1' and not has_valid_result
),

phonics_year1_left as (
    -- a valid Year 1 result, and no place in next year's Year 2 cohort (not on its January census)
    select
        p.pupil_key, p.academic_year + 1 as academic_year, 'phonics_y2' as cohort, p.laestab,
        'year1_result_not_on_january_census' as check_code
    from {{ ref('int_phonics_pupils') }} as p
    inner join cohort_years as y on y.cohort = 'phonics_y2' and y.academic_year = p.academic_year + 1
    where p.nc_year = '1' and p.has_valid_result
        and not exists (
            select 1 from members as m
            where m.pupil_key = p.pupil_key and m.academic_year = p.academic_year + 1 and m.cohort = 'phonics_y2'
        )
),

ks4_results as (
    select pupil_key, academic_year, max(laestab) as laestab
    from {{ ref('stg_attainment__results') }}
    where stage = 'ks4'
    group by pupil_key, academic_year
),

ks4_results_not_in_cohort as (
    select r.pupil_key, r.academic_year, 'ks4' as cohort, r.laestab, 'results_not_in_cohort' as check_code
    from ks4_results as r
    where not exists (
            select 1 from members as m
            where m.pupil_key = r.pupil_key and m.academic_year = r.academic_year and m.cohort = 'ks4'
        )
),

ks4_cohort_without_results as (
    select m.pupil_key, m.academic_year, m.cohort, m.laestab, 'cohort_no_results' as check_code
    from members as m
    where m.cohort = 'ks4'
        and not exists (
            select 1 from ks4_results as r
            where r.pupil_key = m.pupil_key and r.academic_year = m.academic_year
        )
),

attendance_age_unknown as (
    select pupil_key, academic_year, 'attendance' as cohort, laestab, 'age_not_known' as check_code
    from {{ ref('int_attendance_enrolments') }}
    where age_months_at_31_august is null
),

attendance_not_on_census as (
    select m.pupil_key, m.academic_year, m.cohort, m.laestab, 'not_on_january_census' as check_code
    from members as m
    where m.cohort = 'attendance'
        and not exists (
            select 1 from spine as s
            where s.pupil_key = m.pupil_key and s.academic_year = m.academic_year
        )
),

ever6_one_source as (
    select
        m.pupil_key, m.academic_year, m.cohort, m.laestab,
        case
            when d.is_ever6_fsm_census and not d.on_pupil_premium_file then 'ever6_census_only_not_on_file'
            when d.is_ever6_fsm_census then 'ever6_census_only_file_unflagged'
            else 'ever6_file_only'
        end as check_code
    from members as m
    inner join {{ ref('int_pupil_disadvantage_years') }} as d
        on m.pupil_key = d.pupil_key and m.academic_year = d.academic_year
    where m.uses_disadvantage and d.is_ever6_fsm_file <> d.is_ever6_fsm_census
),

checks as (
    select * from results_not_on_census
    union all
    select * from census_without_result
    union all
    select * from phonics_invalid
    union all
    select * from phonics_year1_left
    union all
    select * from ks4_results_not_in_cohort
    union all
    select * from ks4_cohort_without_results
    union all
    select * from attendance_age_unknown
    union all
    select * from attendance_not_on_census
    union all
    select * from ever6_one_source
)

select checks.*, est.learning_community_code
from checks
left join {{ ref('int_establishments') }} as est on checks.laestab = est.laestab
