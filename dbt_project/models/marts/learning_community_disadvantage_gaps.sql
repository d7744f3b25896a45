-- Grain: academic year x geography (each learning community, and the authority) x measure.
-- The disadvantage gap beside its two groups, 3-year rolling figures for small cohorts, and the
-- national benchmark. Business rules:
--   * gap = how far disadvantaged pupils are behind: other minus disadvantaged where a higher
--     value is better, disadvantaged minus other where lower is better (absence), so a positive
--     gap always means disadvantaged pupils are behind; percentage points for % and rates;
--     taken from the unrounded group values and rounded only when published (as DfE does);
--   * group values and gaps are rounded to the measure's own decimal places (measures seed), as
--     its outcome value is (docs/methodology.md#rounding-on-publication);
--   * rolling figures pool numerators and denominators over this and the previous years with
--     results, `rolling_window_years` in all (default 3; years without assessments are skipped,
--     not counted as zero);
--   * context measures (census shares) have no gap.
with groups as (
    select outcomes.*, m.higher_is_better, m.decimals
    from {{ ref('learning_community_outcomes') }} as outcomes
    inner join {{ ref('measures') }} as m on outcomes.measure = m.measure
    where outcomes.breakdown = {{ label('disadvantage_breakdown') }} and m.higher_is_better is not null
),

pivoted as (
    select
        time_period, time_identifier, geographic_level, country_code, country_name, new_la_code, old_la_code, la_name,
        learning_community_code, learning_community_name, collaborative, academic_year, stage, measure, measure_type,
        higher_is_better, decimals,
        sum(case when subgroup = {{ label('disadvantaged') }} then cast(numerator as {{ type_exact_sum() }}) else 0 end) as disadvantaged_numerator,
        sum(case when subgroup = {{ label('disadvantaged') }} then cast(denominator as {{ type_exact_sum() }}) else 0 end) as disadvantaged_denominator,
        sum(case when subgroup = {{ label('disadvantaged') }} then pupils else 0 end) as disadvantaged_pupils,
        sum(case when subgroup = {{ label('not_disadvantaged') }} then cast(numerator as {{ type_exact_sum() }}) else 0 end) as other_numerator,
        sum(case when subgroup = {{ label('not_disadvantaged') }} then cast(denominator as {{ type_exact_sum() }}) else 0 end) as other_denominator,
        sum(case when subgroup = {{ label('not_disadvantaged') }} then pupils else 0 end) as other_pupils
    from groups
    group by
        time_period, time_identifier, geographic_level, country_code, country_name, new_la_code, old_la_code, la_name,
        learning_community_code, learning_community_name, collaborative, academic_year, stage, measure, measure_type,
        higher_is_better, decimals
),

rolling as (
    select
        pivoted.*,
        {% for col in ['disadvantaged_numerator', 'disadvantaged_denominator', 'disadvantaged_pupils',
                       'other_numerator', 'other_denominator', 'other_pupils'] %}
            sum({{ col }}) over (
                partition by pivoted.geographic_level, pivoted.old_la_code, pivoted.learning_community_code, pivoted.measure order by pivoted.time_period
                rows between {{ var('pathways:rolling_window_years') - 1 }} preceding and current row
            ) as rolling_{{ col }},
        {% endfor %}
        count(*) over (
            partition by pivoted.geographic_level, pivoted.old_la_code, pivoted.learning_community_code, pivoted.measure order by pivoted.time_period
            rows between {{ var('pathways:rolling_window_years') - 1 }} preceding and current row
        ) as rolling_years
    from pivoted
),

valued as (
    select
        rolling.*,
        {% for prefix in ['', 'rolling_'] %}
            {% for group in ['disadvantaged', 'other'] %}
                {{ ratio_value('measure_type', prefix ~ group ~ '_numerator', prefix ~ group ~ '_denominator') }}
                    as {{ prefix }}{{ group }}_value{% if not loop.last %},{% endif %}
            {% endfor %}{% if not loop.last %},{% endif %}
        {% endfor %}
    from rolling
),

national as (
    select
        time_period,
        measure,
        max(case when subgroup = {{ label('disadvantaged') }} then value end) as national_disadvantaged_value,
        max(case when subgroup = {{ label('not_disadvantaged') }} then value end) as national_other_value
    from {{ ref('national_benchmarks') }}
    group by time_period, measure
)

select
    valued.time_period, valued.time_identifier, valued.geographic_level, valued.country_code, valued.country_name,
    valued.new_la_code, valued.old_la_code, valued.la_name, valued.learning_community_code,
    valued.learning_community_name, valued.collaborative, valued.academic_year, valued.stage, valued.measure,
    valued.measure_type,
    cast(valued.disadvantaged_numerator as {{ type_double() }}) as disadvantaged_numerator,
    cast(valued.disadvantaged_denominator as {{ type_double() }}) as disadvantaged_denominator, cast(valued.disadvantaged_pupils as {{ dbt.type_bigint() }}) as disadvantaged_pupils,
    {{ round_half_up("valued.disadvantaged_value", "valued.decimals") }} as disadvantaged_value,
    cast(valued.other_numerator as {{ type_double() }}) as other_numerator,
    cast(valued.other_denominator as {{ type_double() }}) as other_denominator, cast(valued.other_pupils as {{ dbt.type_bigint() }}) as other_pupils,
    {{ round_half_up("valued.other_value", "valued.decimals") }} as other_value,
    {{ round_half_up(disadvantage_gap("valued.higher_is_better", "valued.disadvantaged_value", "valued.other_value"),
        "valued.decimals") }} as gap,
    case when valued.measure_type = 'average' then 'points' else 'percentage points' end as gap_unit,
    valued.rolling_years,
    cast(valued.rolling_disadvantaged_numerator as {{ type_double() }}) as rolling_disadvantaged_numerator,
    cast(valued.rolling_disadvantaged_denominator as {{ type_double() }}) as rolling_disadvantaged_denominator, cast(valued.rolling_disadvantaged_pupils as {{ dbt.type_bigint() }}) as rolling_disadvantaged_pupils,
    {{ round_half_up("valued.rolling_disadvantaged_value", "valued.decimals") }} as rolling_disadvantaged_value,
    cast(valued.rolling_other_numerator as {{ type_double() }}) as rolling_other_numerator,
    cast(valued.rolling_other_denominator as {{ type_double() }}) as rolling_other_denominator, cast(valued.rolling_other_pupils as {{ dbt.type_bigint() }}) as rolling_other_pupils,
    {{ round_half_up("valued.rolling_other_value", "valued.decimals") }} as rolling_other_value,
    {{ round_half_up(disadvantage_gap("valued.higher_is_better", "valued.rolling_disadvantaged_value",
        "valued.rolling_other_value"), "valued.decimals") }} as rolling_gap,
    national.national_disadvantaged_value,
    national.national_other_value,
    {{ round_half_up(disadvantage_gap("valued.higher_is_better", "national.national_disadvantaged_value",
        "national.national_other_value"), "valued.decimals") }} as national_gap,
    {{ round_half_up(
        disadvantage_gap("valued.higher_is_better", "valued.disadvantaged_value", "valued.other_value") ~ " - "
        ~ disadvantage_gap("valued.higher_is_better", "national.national_disadvantaged_value", "national.national_other_value"),
        "valued.decimals") }} as gap_against_national
from valued
left join national
    on valued.time_period = national.time_period and valued.measure = national.measure
