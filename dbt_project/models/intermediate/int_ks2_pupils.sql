-- One row per pupil per year at the end of KS2, attributed to the school that entered them.
-- Business rules (DfE KS2 methodology):
--   expected standard in RWM: reading scaled score >= 100, maths >= 100, writing TA EXS or GDS;
--   higher standard: reading >= 110, maths >= 110, writing GDS;
--   a result code in a score column (A absent, B working below the test, ...) counts in the
--   denominator and not the numerator; a pupil coded L (left) in reading or maths is not counted.
with results as (
    select
        pupil_key,
        academic_year,
        max(laestab) as laestab,
        max(case when subject = 'reading' then result end) as reading_result,
        max(case when subject = 'maths' then result end) as maths_result,
        max(case when subject = 'gps' then result end) as gps_result,
        max(case when subject = 'writing' then result end) as writing_result,
        max(case when subject = 'reading' then result_number end) as reading_scaled_score,
        max(case when subject = 'maths' then result_number end) as maths_scaled_score,
        max(case when subject = 'gps' then result_number end) as gps_scaled_score
    from {{ ref('stg_attainment__results') }}
    where stage = 'ks2'
    group by pupil_key, academic_year
)

select
    results.*,
    est.learning_community_code,
    coalesce(results.reading_scaled_score >= 100, false) as is_reading_expected,
    coalesce(results.maths_scaled_score >= 100, false) as is_maths_expected,
    coalesce(results.writing_result in ('EXS', 'GDS'), false) as is_writing_expected,
    coalesce(results.gps_scaled_score >= 100, false) as is_gps_expected,
    coalesce(
        results.reading_scaled_score >= 100 and results.maths_scaled_score >= 100
        and results.writing_result in ('EXS', 'GDS'), false
    ) as is_rwm_expected,
    coalesce(
        results.reading_scaled_score >= 110 and results.maths_scaled_score >= 110
        and results.writing_result = 'GDS', false
    ) as is_rwm_higher
from results
left join {{ ref('int_establishments') }} as est on results.laestab = est.laestab
where coalesce(results.reading_result, '') <> 'L' and coalesce(results.maths_result, '') <> 'L'
