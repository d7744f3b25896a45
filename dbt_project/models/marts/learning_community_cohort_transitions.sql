-- Grain: cohort x geography x (from stage -> to stage) x disadvantage subgroup. "No one left
-- behind": of the pupils below the expected standard at one stage, how many reached it at a
-- later one; of those at it, how many fell behind; and how many stayed in the learning
-- community. Business rules: pupils are tracked when assessed at both stages (at 17: tracked in
-- the post-16 activity at the end of March); they belong to the learning community (and
-- disadvantage group) of the earlier stage; every later stage is a pair, so cohorts that had no
-- KS1 (2023/24 on) still link phonics to KS2, and KS4 leads to age 17 (the KS4 cohort followed
-- into post-16: caught up = below grade 4 in English and maths, yet in education, employment or
-- training at 17).
with pairs as (
    select
        a.pupil_key,
        a.reception_year,
        a.stage as from_stage,
        a.stage_order as from_stage_order,
        b.stage as to_stage,
        b.stage_order as to_stage_order,
        b.academic_year as to_academic_year,
        {{ authority_code('a.laestab') }} as old_la_code,
        a.learning_community_code,
        a.is_disadvantaged,
        a.is_expected as expected_before,
        b.is_expected as expected_after,
        coalesce(a.learning_community_code = b.learning_community_code, false) as stayed_in_community
    from {{ ref('int_cohort_stage_results') }} as a
    inner join {{ ref('int_cohort_stage_results') }} as b
        on a.pupil_key = b.pupil_key and a.stage_order < b.stage_order
),

tagged as (
    select *, {{ label('total') }} as subgroup from pairs
    union all
    select *, {{ disadvantage_subgroup('is_disadvantaged') }} from pairs
),

counted as (
    {{ community_and_authority('tagged',
        ['reception_year', 'from_stage', 'from_stage_order', 'to_stage', 'to_stage_order', 'to_academic_year', 'subgroup'],
        'count(*) as pupils_tracked,
        sum(case when not expected_before then 1 else 0 end) as below_expected_before,
        sum(case when not expected_before and expected_after then 1 else 0 end) as caught_up,
        sum(case when expected_before then 1 else 0 end) as at_expected_before,
        sum(case when expected_before and not expected_after then 1 else 0 end) as fell_behind,
        sum(case when stayed_in_community then 1 else 0 end) as stayed_in_community') }}
)

select
    {{ ees_header('counted.to_academic_year', "counted.geographic_level", "counted.old_la_code") }},
    counted.learning_community_code,
    lc.learning_community_name,
    counted.reception_year,
    {{ time_period('counted.reception_year') }} as reception_cohort,
    counted.from_stage,
    counted.to_stage,
    counted.from_stage_order,
    counted.to_stage_order,
    counted.subgroup,
    cast(counted.pupils_tracked as {{ dbt.type_bigint() }}) as pupils_tracked,
    cast(counted.below_expected_before as {{ dbt.type_bigint() }}) as below_expected_before,
    cast(counted.caught_up as {{ dbt.type_bigint() }}) as caught_up,
    {{ percentage('counted.caught_up', 'counted.below_expected_before') }} as caught_up_percentage,
    cast(counted.at_expected_before as {{ dbt.type_bigint() }}) as at_expected_before,
    cast(counted.fell_behind as {{ dbt.type_bigint() }}) as fell_behind,
    {{ percentage('counted.fell_behind', 'counted.at_expected_before') }} as fell_behind_percentage,
    cast(counted.stayed_in_community as {{ dbt.type_bigint() }}) as stayed_in_community,
    {{ percentage('counted.stayed_in_community', 'counted.pupils_tracked') }} as stayed_in_community_percentage
from counted
left join {{ ref('stg_reference__learning_communities') }} as lc
    on counted.learning_community_code = lc.learning_community_code
