-- Grain: academic year x geography (each learning community, and the borough) x measure x
-- breakdown x subgroup. Every row carries numerator, denominator and the pupils (enrolments,
-- for attendance) behind them, so figures re-aggregate; layout follows the EES open-data standard.
with pupil_measures as (
    select
        outcomes.academic_year,
        outcomes.learning_community_code,
        outcomes.stage,
        outcomes.measure,
        outcomes.measure_type,
        outcomes.numerator,
        outcomes.denominator,
        subgroups.breakdown,
        subgroups.subgroup
    from {{ ref('int_pupil_outcomes') }} as outcomes
    inner join {{ ref('int_pupil_subgroups') }} as subgroups
        on outcomes.pupil_key = subgroups.pupil_key
        and outcomes.academic_year = subgroups.academic_year
),

by_learning_community as (
    select
        academic_year, 'Learning community' as geographic_level, learning_community_code,
        stage, measure, measure_type, breakdown, subgroup,
        sum(numerator) as numerator, sum(denominator) as denominator, count(*) as pupils
    from pupil_measures
    where learning_community_code is not null
    group by academic_year, learning_community_code, stage, measure, measure_type, breakdown, subgroup
),

by_local_authority as (
    select
        academic_year, 'Local authority' as geographic_level, cast(null as {{ dbt.type_string() }}) as learning_community_code,
        stage, measure, measure_type, breakdown, subgroup,
        sum(numerator) as numerator, sum(denominator) as denominator, count(*) as pupils
    from pupil_measures
    group by academic_year, stage, measure, measure_type, breakdown, subgroup
),

unioned as (
    select * from by_learning_community
    union all
    select * from by_local_authority
)

select
    {{ time_period('unioned.academic_year') }} as time_period,
    'Academic year' as time_identifier,
    unioned.geographic_level,
    {{ ees_geography_columns() }},
    unioned.learning_community_code,
    lc.learning_community_name,
    lc.collaborative,
    unioned.academic_year,
    unioned.stage,
    unioned.measure,
    unioned.measure_type,
    unioned.breakdown,
    unioned.subgroup,
    unioned.numerator,
    unioned.denominator,
    unioned.pupils,
    case
        when unioned.measure_type in ('percentage', 'rate') then {{ percentage('unioned.numerator', 'unioned.denominator') }}
        when unioned.measure_type = 'count' then unioned.numerator
        when unioned.measure = 'ks4_local_progress_8' then round(unioned.numerator / nullif(unioned.denominator, 0), 2)
        else round(unioned.numerator / nullif(unioned.denominator, 0), 1)
    end as value
from unioned
left join {{ ref('stg_reference__learning_communities') }} as lc
    on unioned.learning_community_code = lc.learning_community_code
