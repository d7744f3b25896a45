-- One row per academic year present in the uploads, with its EES time period, which national
-- assessments took place (none in 2019/20 and 2020/21; KS1 statutory to 2022/23) and which terms
-- of attendance are held: a year's absence figures cover only those terms, and say so in their
-- EES time_identifier (docs/methodology.md#attendance-terms).
with years as (
    select distinct academic_year from {{ ref('int_pupil_years') }}
    union
    select distinct academic_year from {{ ref('stg_attainment__results') }}
    union
    select distinct academic_year from {{ ref('stg_attendance__enrolment_terms') }}
),

attendance_terms as (
    select
        academic_year,
        max(case when term = 'autumn' then 1 else 0 end) = 1 as has_autumn,
        max(case when term = 'spring' then 1 else 0 end) = 1 as has_spring,
        max(case when term = 'summer' then 1 else 0 end) = 1 as has_summer
    from {{ ref('stg_attendance__enrolment_terms') }}
    group by academic_year
)

select
    years.academic_year,
    {{ time_period('years.academic_year') }} as time_period,
    cast(years.academic_year as {{ dbt.type_string() }}) || '/' || right(cast(years.academic_year + 1 as {{ dbt.type_string() }}), 2)
        as academic_year_label,
    years.academic_year not in (2019, 2020) as had_national_assessments,
    years.academic_year not in (2019, 2020) and years.academic_year <= 2022 as had_statutory_ks1,
    cast(
        case
            when a.has_autumn and a.has_spring and a.has_summer then 'Academic year'
            when a.has_autumn and a.has_spring then 'Autumn and spring term'
            when a.has_autumn and not a.has_spring and not a.has_summer then 'Autumn term'
            when not a.has_autumn and a.has_spring and not a.has_summer then 'Spring term'
            when not a.has_autumn and not a.has_spring and a.has_summer then 'Summer term'
            when a.has_autumn then 'Autumn and summer term'
            when a.has_spring then 'Spring and summer term'
        end as {{ dbt.type_string() }}
    ) as attendance_time_identifier
from years
left join attendance_terms as a on years.academic_year = a.academic_year
