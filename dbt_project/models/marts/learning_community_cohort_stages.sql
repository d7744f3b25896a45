-- Grain: cohort (year of Reception entry) x geography x stage x disadvantage subgroup.
-- Each cohort followed through EYFS, phonics, KS1, KS2 and KS4, attributed to the learning
-- community of the pupil's school at each stage: pupils assessed and pupils at the stage's
-- headline expected standard (see int_cohort_stage_results).
with results as (
    select *, {{ authority_code('laestab') }} as old_la_code from {{ ref('int_cohort_stage_results') }}
),

tagged as (
    select *, 'Total' as subgroup from results
    union all
    select *, case when is_disadvantaged then 'Disadvantaged' else 'Not known to be disadvantaged' end
    from results
),

counted as (
    select reception_year, academic_year, stage, stage_order, 'Learning community' as geographic_level,
        old_la_code, learning_community_code, subgroup,
        sum(case when is_expected then 1 else 0 end) as numerator, count(*) as denominator
    from tagged where learning_community_code is not null
    group by reception_year, academic_year, stage, stage_order, old_la_code, learning_community_code, subgroup
    union all
    select reception_year, academic_year, stage, stage_order, 'Local authority', old_la_code,
        cast(null as {{ dbt.type_string() }}), subgroup, sum(case when is_expected then 1 else 0 end), count(*)
    from tagged
    group by reception_year, academic_year, stage, stage_order, old_la_code, subgroup
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
    counted.numerator,
    counted.denominator,
    {{ percentage('counted.numerator', 'counted.denominator') }} as value
from counted
left join {{ ref('stg_reference__learning_communities') }} as lc
    on counted.learning_community_code = lc.learning_community_code
