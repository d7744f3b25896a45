-- Grain: geography x measure (percentage measures with a disadvantage gap). Is the gap narrowing?
-- Business rules:
--   * window: the latest `gap_trend_years` years with results (default 5), at least 3;
--   * change = gap in the last year minus gap in the first year of the window (percentage points;
--     positive gap = disadvantaged behind, so a negative change is narrowing);
--   * 95% confidence interval for that change by Newcombe's method extended to a difference of
--     differences (MOVER with Wilson score intervals for each of the four proportions);
--   * trend per year = least-squares slope of the gap over every year in the window, with a 95%
--     interval from each year's binomial sampling variance (it uses all the years, so it sees a
--     steady trend that two noisy end points can hide);
--   * classification, from the slope's interval: narrowing if wholly below 0, widening if
--     wholly above, else no clear change;
--   * against national: the national gap's change over the same two years, where DfE publishes
--     both (seed national_benchmarks); "faster than nationally" compares the point estimates.
with gaps as (
    select
        g.*,
        m.higher_is_better,
        row_number()
            over (
                partition by g.geographic_level, g.old_la_code, g.learning_community_code, g.measure
                order by g.time_period desc
            )
            as years_back
    from {{ ref('learning_community_disadvantage_gaps') }} as g
    inner join {{ ref('measures') }} as m on g.measure = m.measure
    where g.measure_type = 'percentage'
),

windowed as (
    select
        gaps.*,
        -- sampling variance of the gap (percentage points squared), two independent proportions
        10000 * (
            (gaps.other_numerator / nullif(gaps.other_denominator, 0)) * (1 - gaps.other_numerator / nullif(gaps.other_denominator, 0))
            / nullif(gaps.other_denominator, 0)
            + (gaps.disadvantaged_numerator / nullif(gaps.disadvantaged_denominator, 0))
            * (1 - gaps.disadvantaged_numerator / nullif(gaps.disadvantaged_denominator, 0)) / nullif(gaps.disadvantaged_denominator, 0)
        ) as gap_variance
    from gaps
    where gaps.years_back <= {{ var('pathways:gap_trend_years') }}
),

ends as (
    select
        geographic_level, old_la_code, learning_community_code, measure,
        count(*) as years_in_window,
        min(time_period) as first_time_period,
        max(time_period) as last_time_period,
        max(academic_year) - min(academic_year) as years_apart,
        avg(academic_year) as mean_year,
        avg(gap) as mean_gap
    from windowed
    group by geographic_level, old_la_code, learning_community_code, measure
),

slope as (
    select
        w.geographic_level, w.old_la_code, w.learning_community_code, w.measure,
        sum((w.academic_year - e.mean_year) * (w.gap - e.mean_gap))
        / nullif(sum((w.academic_year - e.mean_year) * (w.academic_year - e.mean_year)), 0) as gap_change_per_year,
        sqrt(sum((w.academic_year - e.mean_year) * (w.academic_year - e.mean_year) * w.gap_variance))
        / nullif(sum((w.academic_year - e.mean_year) * (w.academic_year - e.mean_year)), 0) as gap_change_per_year_se
    from windowed as w
    inner join ends as e
        on w.geographic_level = e.geographic_level and w.measure = e.measure and w.old_la_code = e.old_la_code
            and w.learning_community_code is not distinct from e.learning_community_code
    group by w.geographic_level, w.old_la_code, w.learning_community_code, w.measure
),

paired as (
    select
        e.*,
        f.learning_community_name, f.collaborative, f.stage, f.higher_is_better,
        f.gap as first_gap, l.gap as last_gap,
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
            {{ p }}_x / nullif({{ p }}_n, 0) as {{ p }}_p,
            {{ wilson_bound(p ~ '_x', p ~ '_n', '-') }} as {{ p }}_l,
            {{ wilson_bound(p ~ '_x', p ~ '_n', '+') }} as {{ p }}_u{% if not loop.last %},{% endif %}
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
    i.first_gap,
    i.last_gap,
    round(100 * i.change, 1) as gap_change,
    round(100 * (i.change - i.below), 1) as gap_change_lower_95,
    round(100 * (i.change + i.above), 1) as gap_change_upper_95,
    round(slope.gap_change_per_year, 2) as gap_change_per_year,
    round(slope.gap_change_per_year - 1.959964 * slope.gap_change_per_year_se, 2) as gap_change_per_year_lower_95,
    round(slope.gap_change_per_year + 1.959964 * slope.gap_change_per_year_se, 2) as gap_change_per_year_upper_95,
    case
        when slope.gap_change_per_year + 1.959964 * slope.gap_change_per_year_se < 0 then 'narrowing'
        when slope.gap_change_per_year - 1.959964 * slope.gap_change_per_year_se > 0 then 'widening'
        else 'no clear change'
    end as trend,
    round(i.national_last_gap - i.national_first_gap, 1) as national_gap_change,
    case
        when i.national_first_gap is null or i.national_last_gap is null then null
        when 100 * i.change < i.national_last_gap - i.national_first_gap then 'narrowing faster than nationally'
        when 100 * i.change > i.national_last_gap - i.national_first_gap then 'narrowing slower (or widening faster) than nationally'
        else 'same as nationally'
    end as compared_with_national
from intervals as i
inner join slope
    on i.geographic_level = slope.geographic_level and i.measure = slope.measure and i.old_la_code = slope.old_la_code
        and slope.learning_community_code is not distinct from i.learning_community_code
