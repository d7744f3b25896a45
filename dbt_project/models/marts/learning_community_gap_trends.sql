-- Grain: geography x measure (percentage measures, and the event rates of exclusions and post-16
-- NEET, with a disadvantage gap). Is the gap narrowing, and is the figure itself rising?
-- (docs/methodology.md#gap-trends) Business rules:
--   * window: the latest `gap_trend_years` full academic years with results for both groups
--     (default 5; attendance from only some terms is left out); a row needs at least 3 years;
--   * each year's gap is taken from the unrounded group percentages (positive = disadvantaged
--     behind), with its sampling variance;
--   * trend per year = least-squares slope of the gap over every year in the window, with two 95%
--     intervals: one from each year's sampling variance, and one from the scatter of the years
--     about the line (residual standard error, Student's t with years - 2 degrees of freedom),
--     which allows for year-to-year variation beyond sampling (overdispersion). The published
--     interval is the wider of the two on each side, and it alone decides the verdict: narrowing
--     if wholly below 0, widening if wholly above, else no clear change. With no real trend a
--     verdict is given at most about 1 time in 20 (tests/integration/test_trend_verdicts.py);
--   * the figure's own trend (value_*): the same slope, intervals and rule over the same years, for
--     the measure's figure over both groups together (every pupil): rising, falling or no clear
--     change. A year's sampling variance is binomial for a percentage and Poisson for an event rate
--     (macro sampling_variance); the slope and its intervals are one macro (least_squares_trend);
--   * first and last gaps and values, and the change, are rounded to the measure's own decimal
--     places (measures seed: an exclusion rate to 2); the per-year trends to 2;
--   * change = last year's gap minus the first year's, with Newcombe's interval (MOVER with Wilson
--     intervals for the four proportions), reported beside the trend; an event rate is not a
--     proportion of pupils, so it has no such interval (null);
--   * against national: the national gap's change per year over the same two years (seed
--     national_benchmarks, where DfE publishes both) against the trend's interval: better than
--     the national trend if the interval lies wholly below it, worse if wholly above, else no
--     clear difference.
{% set keys = ['geographic_level', 'old_la_code', 'learning_community_code', 'measure'] %}
{#- rates counted in events or months of a person; absence rates (sessions) have no trend -#}
{% set event_rate_stages = ['exclusions', 'post16'] %}
with gaps as (
    select
        g.*,
        m.higher_is_better,
        m.decimals,
        case when m.higher_is_better then 1 else -1 end as s,
        g.other_numerator / g.other_denominator as p_o,
        g.disadvantaged_numerator / g.disadvantaged_denominator as p_d,
        (g.other_numerator + g.disadvantaged_numerator) / (g.other_denominator + g.disadvantaged_denominator) as p_t
    from {{ ref('learning_community_disadvantage_gaps') }} as g
    inner join {{ ref('measures') }} as m on g.measure = m.measure
    where (
        g.measure_type = 'percentage'
        or (g.measure_type = 'rate' and g.stage in ('{{ event_rate_stages | join("', '") }}'))
    )
    and g.time_identifier = 'Academic year'
    and g.other_denominator > 0 and g.disadvantaged_denominator > 0
),

numbered as (
    select
        gaps.*,
        100 * gaps.s * (gaps.p_o - gaps.p_d) as unrounded_gap,
        -- sampling variance of the gap (percentage points squared), two independent groups
        10000 * (
            {{ sampling_variance('gaps.p_o', 'gaps.other_denominator', 'gaps.measure_type') }}
            + {{ sampling_variance('gaps.p_d', 'gaps.disadvantaged_denominator', 'gaps.measure_type') }}
        ) as gap_variance,
        100 * gaps.p_t as unrounded_value,
        10000 * {{ sampling_variance('gaps.p_t', '(gaps.other_denominator + gaps.disadvantaged_denominator)',
            'gaps.measure_type') }} as value_variance,
        row_number() over (
            partition by gaps.geographic_level, gaps.old_la_code, gaps.learning_community_code, gaps.measure
            order by gaps.time_period desc
        ) as years_back
    from gaps
),

windowed as (
    select * from numbered
    where years_back <= {{ var('pathways:gap_trend_years') }}
),

ends as (
    select
        geographic_level, old_la_code, learning_community_code, measure,
        count(*) as years_in_window,
        min(time_period) as first_time_period,
        max(time_period) as last_time_period,
        max(academic_year) - min(academic_year) as years_apart
    from windowed
    group by geographic_level, old_la_code, learning_community_code, measure
),

{{ least_squares_trend('gap_trend', 'windowed', keys, 'unrounded_gap', 'gap_variance') }},

{{ least_squares_trend('value_trend', 'windowed', keys, 'unrounded_value', 'value_variance') }},

paired as (
    select
        e.*,
        f.learning_community_name, f.collaborative, f.stage, f.higher_is_better, f.measure_type, f.decimals,
        f.unrounded_gap as first_gap, l.unrounded_gap as last_gap, f.p_t as first_value, l.p_t as last_value,
        f.disadvantaged_numerator as d1_x, f.disadvantaged_denominator as d1_n,
        f.other_numerator as o1_x, f.other_denominator as o1_n,
        l.disadvantaged_numerator as d2_x, l.disadvantaged_denominator as d2_n,
        l.other_numerator as o2_x, l.other_denominator as o2_n,
        f.national_gap as national_first_gap, l.national_gap as national_last_gap
    from ends as e
    inner join windowed as f
        on e.geographic_level = f.geographic_level and e.measure = f.measure and e.old_la_code = f.old_la_code
            and f.learning_community_code is not distinct from e.learning_community_code
            and e.first_time_period = f.time_period
    inner join windowed as l
        on e.geographic_level = l.geographic_level and e.measure = l.measure and e.old_la_code = l.old_la_code
            and l.learning_community_code is not distinct from e.learning_community_code
            and e.last_time_period = l.time_period
    where e.years_in_window >= 3
),

proportions as (
    select
        paired.*,
        -- sign of each proportion in the change: +1 adds to the gap change, -1 subtracts
        case when paired.higher_is_better then 1 else -1 end as s,
        {% for p in ['d1', 'o1', 'd2', 'o2'] %}
            {#- Wilson's interval is for a proportion of pupils: none for an event rate -#}
            {%- set x = "case when paired.measure_type = 'percentage' then " ~ p ~ "_x end" %}
            {{ p }}_x / nullif({{ p }}_n, 0) as {{ p }}_p,
            {{ wilson_bound(x, p ~ '_n', '-') }} as {{ p }}_l,
            {{ wilson_bound(x, p ~ '_n', '+') }} as {{ p }}_u{% if not loop.last %},{% endif %}
        {% endfor %}
    from paired
),

intervals as (
    -- change (higher is better) = (o2 - d2) - (o1 - d1): o2 and d1 enter with +, d2 and o1 with -;
    -- when lower is better every sign flips.
    select
        proportions.*,
        proportions.s * ((proportions.o2_p - proportions.d2_p) - (proportions.o1_p - proportions.d1_p)) as change,
        case when proportions.s = 1
                then
                    sqrt(power(proportions.o2_p - proportions.o2_l, 2) + power(proportions.d1_p - proportions.d1_l, 2) + power(proportions.d2_u - proportions.d2_p, 2) + power(proportions.o1_u - proportions.o1_p, 2))
            else
                sqrt(power(proportions.d2_p - proportions.d2_l, 2) + power(proportions.o1_p - proportions.o1_l, 2) + power(proportions.o2_u - proportions.o2_p, 2) + power(proportions.d1_u - proportions.d1_p, 2))
        end as below,
        case when proportions.s = 1
                then
                    sqrt(power(proportions.o2_u - proportions.o2_p, 2) + power(proportions.d1_u - proportions.d1_p, 2) + power(proportions.d2_p - proportions.d2_l, 2) + power(proportions.o1_p - proportions.o1_l, 2))
            else
                sqrt(power(proportions.d2_u - proportions.d2_p, 2) + power(proportions.o1_u - proportions.o1_p, 2) + power(proportions.o2_p - proportions.o2_l, 2) + power(proportions.d1_p - proportions.d1_l, 2))
        end as above
    from proportions
)

select
    i.last_time_period as time_period,
    'Academic year' as time_identifier,
    i.geographic_level,
    {{ ees_geography_columns('i.old_la_code') }},
    i.learning_community_code,
    i.learning_community_name,
    i.collaborative,
    i.stage,
    i.measure,
    i.first_time_period,
    i.last_time_period,
    i.years_in_window,
    i.d1_x as first_disadvantaged_numerator, i.d1_n as first_disadvantaged_denominator,
    i.o1_x as first_other_numerator, i.o1_n as first_other_denominator,
    i.d2_x as last_disadvantaged_numerator, i.d2_n as last_disadvantaged_denominator,
    i.o2_x as last_other_numerator, i.o2_n as last_other_denominator,
    {{ round_half_up("i.first_gap", "i.decimals") }} as first_gap,
    {{ round_half_up("i.last_gap", "i.decimals") }} as last_gap,
    {{ round_half_up("100 * i.change", "i.decimals") }} as gap_change,
    {{ round_half_up("100 * (i.change - i.below)", "i.decimals") }} as gap_change_lower_95,
    {{ round_half_up("100 * (i.change + i.above)", "i.decimals") }} as gap_change_upper_95,
    {{ round_half_up("j.change_per_year", 2) }} as gap_change_per_year,
    {{ round_half_up("j.lower_95", 2) }} as gap_change_per_year_lower_95,
    {{ round_half_up("j.upper_95", 2) }} as gap_change_per_year_upper_95,
    j.interval_basis,
    {{ trend_verdict('j.lower_95', 'j.upper_95', 'narrowing', 'widening') }} as trend,
    {{ round_half_up("i.national_last_gap - i.national_first_gap", "i.decimals") }} as national_gap_change,
    {{ round_half_up("(i.national_last_gap - i.national_first_gap) / i.years_apart", 2) }} as national_gap_change_per_year,
    case
        when i.national_first_gap is null or i.national_last_gap is null then null
        when j.upper_95 < (i.national_last_gap - i.national_first_gap) / i.years_apart then 'better than the national trend'
        when j.lower_95 > (i.national_last_gap - i.national_first_gap) / i.years_apart then 'worse than the national trend'
        else 'no clear difference from the national trend'
    end as compared_with_national,
    {{ round_half_up("100 * i.first_value", "i.decimals") }} as first_value,
    {{ round_half_up("100 * i.last_value", "i.decimals") }} as last_value,
    {{ round_half_up("v.change_per_year", 2) }} as value_change_per_year,
    {{ round_half_up("v.lower_95", 2) }} as value_change_per_year_lower_95,
    {{ round_half_up("v.upper_95", 2) }} as value_change_per_year_upper_95,
    v.interval_basis as value_interval_basis,
    {{ trend_verdict('v.lower_95', 'v.upper_95', 'falling', 'rising') }} as value_trend
from intervals as i
inner join gap_trend as j
    on i.geographic_level = j.geographic_level and i.measure = j.measure and i.old_la_code = j.old_la_code
        and j.learning_community_code is not distinct from i.learning_community_code
inner join value_trend as v
    on i.geographic_level = v.geographic_level and i.measure = v.measure and i.old_la_code = v.old_la_code
        and v.learning_community_code is not distinct from i.learning_community_code
