-- One row per pupil per year at the end of KS1 (teacher assessment; statutory to 2022/23).
-- Business rule: expected standard = EXS or GDS; other codes (WTS, PK1-PK4, EM, A, D) count in
-- the denominator as not met.
with results as (
    select
        pupil_key,
        academic_year,
        max(laestab) as laestab,
        max(case when subject = 'reading' then result end) as reading_result,
        max(case when subject = 'writing' then result end) as writing_result,
        max(case when subject = 'maths' then result end) as maths_result
    from {{ ref('stg_attainment__results') }}
    where stage = 'ks1'
    group by pupil_key, academic_year
)

select
    results.*,
    est.learning_community_code,
    coalesce(results.reading_result in ('EXS', 'GDS'), false) as is_reading_expected,
    coalesce(results.writing_result in ('EXS', 'GDS'), false) as is_writing_expected,
    coalesce(results.maths_result in ('EXS', 'GDS'), false) as is_maths_expected,
    coalesce(
        results.reading_result in ('EXS', 'GDS') and results.writing_result in ('EXS', 'GDS')
        and results.maths_result in ('EXS', 'GDS'), false
    ) as is_rwm_expected
from results
left join {{ ref('int_establishments') }} as est on results.laestab = est.laestab
