-- One row per pupil per year with a phonics record (Year 1 check, or Year 2 check), at the school
-- on the record (docs/methodology.md#cohort-phonics-year-1).
-- Business rules (DfE phonics screening check methodology): threshold 32 of 40 every year (a
-- setting); a mark at or above it, or outcome Wa, meets the standard. Valid results are Wa, Wt, A
-- (absent), D (disapplied) and Q (maladministration), or a mark without an outcome: only they are
-- in the cohort (has_valid_result), A, D, Q and Wt as not met. L (left) and a record with neither
-- a mark nor an outcome are not valid and not counted. Year 2 pupils who did not meet it in Year 1
-- take the check again (see int_phonics_year2_pupils for "by the end of Year 2").
with results as (
    select
        pupil_key,
        academic_year,
        max(laestab) as laestab,
        max(nc_year) as nc_year,
        max(case when subject = 'phonics_mark' then result_number end) as phonics_mark,
        max(case when subject = 'phonics_outcome' then upper(result) end) as phonics_outcome
    from {{ ref('stg_attainment__results') }}
    where stage = 'phonics'
    group by pupil_key, academic_year
)

select
    results.pupil_key,
    results.academic_year,
    results.laestab,
    est.learning_community_code,
    results.nc_year,
    results.phonics_mark,
    results.phonics_outcome,
    coalesce(results.phonics_outcome in ('WA', 'WT', 'A', 'D', 'Q'), false)
    or (results.phonics_outcome is null and results.phonics_mark is not null) as has_valid_result,
    coalesce(results.phonics_mark >= {{ var('pathways:phonics_threshold') }}, false)
    or coalesce(results.phonics_outcome = 'WA', false) as met_standard
from results
left join {{ ref('int_establishments') }} as est on results.laestab = est.laestab
