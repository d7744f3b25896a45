-- The pupil-year record: one row per pupil on roll at the spring (January) census, with the school
-- and characteristics DfE takes from that census (docs/methodology.md#pupil-year-record).
-- Business rules:
--   * only the January census: a pupil who left before it or joined after it has no record that
--     year (their results count by the cohort rules, their characteristics are Unclassified);
--   * main enrolments only (C, M, F): a dual-registered pupil is counted once, at the main school;
--     two main rows on one census (a data error) keep the later entry date;
--   * "arrived after the autumn census" = entry to the January school after that year's October
--     census day; "moved school this year" = main enrolments at more than one school across the
--     year's censuses.
with main_enrolments as (
    select *
    from {{ ref('stg_census__pupil_terms') }}
    where is_main_enrolment
),

autumn_census_days as (
    select academic_year, min(census_date) as autumn_census_date
    from {{ ref('stg_census__pupil_terms') }}
    where term = 'autumn'
    group by academic_year
),

moves as (
    select pupil_key, academic_year, count(distinct laestab) - 1 as school_moves
    from main_enrolments
    group by pupil_key, academic_year
),

ranked as (
    select
        *,
        row_number() over (
            partition by pupil_key, academic_year
            order by entry_date desc nulls last, laestab asc
        ) as preference
    from main_enrolments
    where term = 'spring'
)

select
    ranked.pupil_key,
    ranked.academic_year,
    ranked.academic_year - ranked.nc_year_number as reception_year,
    ranked.laestab,
    est.learning_community_code,
    ranked.census_date,
    ranked.nc_year,
    ranked.nc_year_number,
    ranked.age_months_at_31_august,
    ranked.sex,
    ranked.ethnicity_code,
    coalesce(eth.ethnicity_major_group, 'Unclassified') as ethnicity_major_group,
    coalesce(eth.is_gypsy_roma_traveller, false) as is_gypsy_roma_traveller,
    ranked.is_eal,
    ranked.sen_provision,
    ranked.sen_primary_need,
    ranked.is_fsm_eligible,
    {{ is_disadvantaged() }} as is_disadvantaged,
    coalesce(ranked.entry_date > autumn.autumn_census_date, false) as arrived_after_autumn_census,
    moves.school_moves > 0 as moved_school_this_year
from ranked
left join {{ ref('int_establishments') }} as est on ranked.laestab = est.laestab
left join {{ ref('ethnicity_codes') }} as eth on ranked.ethnicity_code = eth.ethnicity_code
{{ join_disadvantage('ranked') }}
left join autumn_census_days as autumn on ranked.academic_year = autumn.academic_year
left join moves on ranked.pupil_key = moves.pupil_key and ranked.academic_year = moves.academic_year
where ranked.preference = 1
