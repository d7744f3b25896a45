-- One row per academic year present in the uploads, with its EES time period and which
-- national assessments took place (none in 2019/20 and 2020/21; KS1 statutory to 2022/23).
with years as (
    select distinct academic_year from {{ ref('int_pupil_years') }}
    union
    select distinct academic_year from {{ ref('stg_attainment__results') }}
)

select
    academic_year,
    {{ time_period('academic_year') }} as time_period,
    cast(academic_year as {{ dbt.type_string() }}) || '/' || right(cast(academic_year + 1 as {{ dbt.type_string() }}), 2)
        as academic_year_label,
    academic_year not in (2019, 2020) as had_national_assessments,
    academic_year not in (2019, 2020) and academic_year <= 2022 as had_statutory_ks1
from years
