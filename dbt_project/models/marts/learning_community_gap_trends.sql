-- Grain: geography x measure (percentage measures with a disadvantage gap). Is the gap narrowing?
-- (docs/methodology.md#gap-trends) Business rules:
--   * window: the latest `gap_trend_years` full academic years with results for both groups
--     (default 5; attendance from only some terms is left out); a row needs at least 3 years;
--   * each year's gap is taken from the unrounded group percentages (positive = disadvantaged
--     behind), with its binomial sampling variance;
--   * trend per year = least-squares slope of the gap over every year in the window, with two 95%
--     intervals: one from each year's sampling variance, and one from the scatter of the years
--     about the line (residual standard error, Student's t with years - 2 degrees of freedom),
--     which allows for year-to-year variation beyond sampling (overdispersion). The published
--     interval is the wider of the two on each side, and it alone decides the verdict: narrowing
--     if wholly below 0, widening if wholly above, else no clear change. With no real trend a
--     verdict is given at most about 1 time in 20 (tests/integration/test_trend_verdicts.py);
--   * change = last year's gap minus the first year's, with Newcombe's interval (MOVER with Wilson
--     intervals for the four proportions), reported beside the trend;
--   * against national: the national gap's change per year over the same two years (seed
--     national_benchmarks, where DfE publishes both) against the trend's interval: better than
--     the national trend if the interval lies wholly below it, worse if wholly above, else no
--     clear difference.
with gaps as (
    select
        g.*,
        m.higher_is_better,
        case when m.higher_is_better then 1 else -1 end as s,
        g.other_numerator / g.other_denominator as p_o,
        g.disadvantaged_numerator / g.disadvantaged_denominator as p_d
    from {{ ref('learning_community_disadvantage_gaps') }} as g
    inner join {{ ref('measures') }} as m on g.measure = m.measure
    where g.measure_type = 'percentage' and g.time_identifier = 'Academic year'
        and g.other_denominator > 0 and g.disadvantaged_denominator > 0
),

numbered as (
    select
        gaps.*,
        100 * gaps.s * (gaps.p_o - gaps.p_d) as unrounded_gap,
        -- sampling variance of the gap (percentage points squared), two independent proportions
        10000 * (
            gaps.p_o * (1 - gaps.p_o) / gaps.other_denominator
            + gaps.p_d * (1 - gaps.p_d) / gaps.disadvantaged_denominator
        ) as gap_variance,
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
        max(academic_year) - min(academic_year) as years_apart,
        avg(academic_year) as mean_year,
        avg(unrounded_gap) as mean_gap
    from windowed
    group by geographic_level, old_la_code, learning_community_code, measure
),

slope_sums as (
    select
        w.geographic_level, w.old_la_code, w.learning_community_code, w.measure,
        sum((w.academic_year - e.mean_year) * (w.academic_year - e.mean_year)) as sxx,
        sum((w.academic_year - e.mean_year) * (w.unrounded_gap - e.mean_gap)) as sxy,
        sum((w.academic_year - e.mean_year) * (w.academic_year - e.mean_year) * w.gap_variance) as sampling_sum
    from windowed as w
    inner join ends as e
        on w.geographic_level = e.geographic_level and w.measure = e.measure and w.old_la_code = e.old_la_code
            and w.learning_community_code is not distinct from e.learning_community_code
    group by w.geographic_level, w.old_la_code, w.learning_community_code, w.measure
),

residuals as (
    select
        w.geographic_level, w.old_la_code, w.learning_community_code, w.measure,
        sum(power(w.unrounded_gap - e.mean_gap - (ss.sxy / ss.sxx) * (w.academic_year - e.mean_year), 2))
            as residual_sum_of_squares
    from windowed as w
    inner join ends as e
        on w.geographic_level = e.geographic_level and w.measure = e.measure and w.old_la_code = e.old_la_code
            and w.learning_community_code is not distinct from e.learning_community_code
    inner join slope_sums as ss
        on w.geographic_level = ss.geographic_level and w.measure = ss.measure and w.old_la_code = ss.old_la_code
            and w.learning_community_code is not distinct from ss.learning_community_code
    where e.years_in_window >= 3
    group by w.geographic_level, w.old_la_code, w.learning_community_code, w.measure
),

slope as (
    select
        ss.geographic_level, ss.old_la_code, ss.learning_community_code, ss.measure,
        ss.sxy / ss.sxx as gap_change_per_year,
        -- half-widths of the two 95% intervals: sampling only, and the years' scatter about the line
        1.959964 * sqrt(ss.sampling_sum) / ss.sxx as sampling_half_width,
        {{ t_quantile_975('e.years_in_window - 2') }} * sqrt(r.residual_sum_of_squares / (e.years_in_window - 2) / ss.sxx)
            as scatter_half_width
    from slope_sums as ss
    inner join ends as e
        on ss.geographic_level = e.geographic_level and ss.measure = e.measure and ss.old_la_code = e.old_la_code
            and ss.learning_community_code is not distinct from e.learning_community_code
    inner join residuals as r
        on ss.geographic_level = r.geographic_level and ss.measure = r.measure and ss.old_la_code = r.old_la_code
            and ss.learning_community_code is not distinct from r.learning_community_code
),

judged as (
    select
        slope.*,
        slope.gap_change_per_year - greatest(slope.sampling_half_width, slope.scatter_half_width) as lower_95,
        slope.gap_change_per_year + greatest(slope.sampling_half_width, slope.scatter_half_width) as upper_95
    from slope
),

paired as (
    select
        e.*,
        f.learning_community_name, f.collaborative, f.stage, f.higher_is_better,
        f.unrounded_gap as first_gap, l.unrounded_gap as last_gap,
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
    {{ round_half_up("i.first_gap", 1) }} as first_gap,
    {{ round_half_up("i.last_gap", 1) }} as last_gap,
    {{ round_half_up("100 * i.change", 1) }} as gap_change,
    {{ round_half_up("100 * (i.change - i.below)", 1) }} as gap_change_lower_95,
    {{ round_half_up("100 * (i.change + i.above)", 1) }} as gap_change_upper_95,
    {{ round_half_up("j.gap_change_per_year", 2) }} as gap_change_per_year,
    {{ round_half_up("j.lower_95", 2) }} as gap_change_per_year_lower_95,
    {{ round_half_up("j.upper_95", 2) }} as gap_change_per_year_upper_95,
    case when j.scatter_half_width > j.sampling_half_width then 'year-to-year scatter' else 'sampling variation' end
        as interval_basis,
    case
        when j.upper_95 < 0 then 'narrowing'
        when j.lower_95 > 0 then 'widening'
        else 'no clear change'
    end as trend,
    {{ round_half_up("i.national_last_gap - i.national_first_gap", 1) }} as national_gap_change,
    {{ round_half_up("(i.national_last_gap - i.national_first_gap) / i.years_apart", 2) }} as national_gap_change_per_year,
    case
        when i.national_first_gap is null or i.national_last_gap is null then null
        when j.upper_95 < (i.national_last_gap - i.national_first_gap) / i.years_apart then 'better than the national trend'
        when j.lower_95 > (i.national_last_gap - i.national_first_gap) / i.years_apart then 'worse than the national trend'
        else 'no clear difference from the national trend'
    end as compared_with_national
from intervals as i
inner join judged as j
    on i.geographic_level = j.geographic_level and i.measure = j.measure and i.old_la_code = j.old_la_code
        and j.learning_community_code is not distinct from i.learning_community_code
