-- One row per pupil per year taking (or due to take) the phonics screening check.
-- Business rules (DfE): threshold 32 of 40 every year; a mark at or above it, or outcome Wa,
-- meets the standard; absent (A), disapplied (D), maladministration (Q) and not met (Wt) count
-- in the denominator as not met; left (L) is not counted. Year 1 takes the check; Year 2 pupils
-- who did not meet it retake (see int_phonics_year2_pupils for "by the end of Year 2").
with results as (
    select
        pupil_key,
        academic_year,
        max(laestab) as laestab,
        max(nc_year) as nc_year,
        max(case when subject = 'phonics_mark' then result_number end) as phonics_mark,
        max(case when subject = 'phonics_outcome' then result end) as phonics_outcome
    from {{ ref('stg_attainment__results') }}
    where stage = 'phonics'
    group by pupil_key, academic_year
),

checked as (
    select
        results.*,
        coalesce(results.phonics_mark >= {{ var('pathways:phonics_threshold') }}, false) or coalesce(results.phonics_outcome = 'WA', false)
            as met_standard
    from results
    where coalesce(results.phonics_outcome, '') <> 'L'
)

select
    checked.pupil_key,
    checked.academic_year,
    checked.laestab,
    est.learning_community_code,
    checked.nc_year,
    checked.phonics_mark,
    checked.phonics_outcome,
    checked.met_standard
from checked
left join {{ ref('int_establishments') }} as est on checked.laestab = est.laestab
