-- Grain: academic year x geography x measure. The disadvantage gap side by side with its two
-- groups and the national benchmark. Business rule: gap = other pupils' value minus
-- disadvantaged pupils' value, so a positive gap means disadvantaged pupils are behind;
-- percentage points for percentage measures, points for averages.
with groups as (
    select * from {{ ref('learning_community_outcomes') }}
    where breakdown = 'Disadvantage'
),

pivoted as (
    select
        time_period, time_identifier, geographic_level, country_code, country_name, new_la_code, old_la_code, la_name,
        learning_community_code, learning_community_name, collaborative, academic_year, stage, measure, measure_type,
        max(case when subgroup = 'Disadvantaged' then numerator end) as disadvantaged_numerator,
        max(case when subgroup = 'Disadvantaged' then denominator end) as disadvantaged_denominator,
        max(case when subgroup = 'Disadvantaged' then value end) as disadvantaged_value,
        max(case when subgroup = 'Not known to be disadvantaged' then numerator end) as other_numerator,
        max(case when subgroup = 'Not known to be disadvantaged' then denominator end) as other_denominator,
        max(case when subgroup = 'Not known to be disadvantaged' then value end) as other_value
    from groups
    group by
        time_period, time_identifier, geographic_level, country_code, country_name, new_la_code, old_la_code, la_name,
        learning_community_code, learning_community_name, collaborative, academic_year, stage, measure, measure_type
),

national as (
    select
        time_period,
        measure,
        max(case when subgroup = 'Disadvantaged' then value end) as national_disadvantaged_value,
        max(case when subgroup = 'Not known to be disadvantaged' then value end) as national_other_value
    from {{ ref('national_benchmarks') }}
    group by time_period, measure
)

select
    pivoted.*,
    round(pivoted.other_value - pivoted.disadvantaged_value, 1) as gap,
    case when pivoted.measure_type = 'percentage' then 'percentage points' else 'points' end as gap_unit,
    national.national_disadvantaged_value,
    national.national_other_value,
    round(national.national_other_value - national.national_disadvantaged_value, 1) as national_gap,
    round(
        (pivoted.other_value - pivoted.disadvantaged_value)
        - (national.national_other_value - national.national_disadvantaged_value), 1
    ) as gap_against_national
from pivoted
left join national
    on pivoted.time_period = national.time_period and pivoted.measure = national.measure
