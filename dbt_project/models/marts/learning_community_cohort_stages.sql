-- Grain: cohort (year of Reception entry) x geography x stage x disadvantage subgroup.
-- Each cohort followed through EYFS, phonics, KS1, KS2, KS4 and to age 17 (in education,
-- employment or training), attributed to the learning community of the pupil's school at each
-- stage (at 17: where the young person finished Year 11): pupils at the stage and pupils at its
-- headline (see int_cohort_stage_results).
with results as (
    select *, {{ authority_code('laestab') }} as old_la_code from {{ ref('int_cohort_stage_results') }}
),

tagged as (
    select *, {{ label('total') }} as subgroup from results
    union all
    select *, {{ disadvantage_subgroup('is_disadvantaged') }}
    from results
),

counted as (
    {{ community_and_authority('tagged', ['reception_year', 'academic_year', 'stage', 'stage_order', 'subgroup'],
        'sum(case when is_expected then 1 else 0 end) as numerator, count(*) as denominator') }}
)

select
    {{ ees_header('counted.academic_year', "counted.geographic_level", "counted.old_la_code") }},
    counted.learning_community_code,
    lc.learning_community_name,
    counted.reception_year,
    {{ time_period('counted.reception_year') }} as reception_cohort,
    counted.stage,
    counted.stage_order,
    counted.subgroup,
    cast(counted.numerator as {{ dbt.type_bigint() }}) as numerator,
    cast(counted.denominator as {{ dbt.type_bigint() }}) as denominator,
    {{ percentage('counted.numerator', 'counted.denominator') }} as value
from counted
left join {{ ref('stg_reference__learning_communities') }} as lc
    on counted.learning_community_code = lc.learning_community_code
