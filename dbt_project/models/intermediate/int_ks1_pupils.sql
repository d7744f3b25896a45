-- One row per pupil per year at the end of KS1 (teacher assessment; statutory to 2022/23).
-- Business rules (docs/methodology.md#cohort-ks1): expected standard = EXS or GDS; other codes
-- (WTS, PK1-PK4, BLW, EM, A, D, Q) count in the denominator as not met; a pupil coded L (left) in
-- reading, writing or maths is not counted, as at KS2 and in phonics.
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
where coalesce(results.reading_result, '') <> 'L' and coalesce(results.writing_result, '') <> 'L'
    and coalesce(results.maths_result, '') <> 'L'
