{# Student's t quantile for a two-sided 95% interval (the 97.5th percentile) with `df` degrees of
   freedom, 1 to 30 (docs/methodology.md#trend-slope lists the same table); beyond 30 the normal
   quantile. Used where a trend's interval rests on the scatter of a few years about their line. #}
{% macro t_quantile_975(df) -%}
    {%- set table = [12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157,
                     2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922,
                     2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831,
                     2.048407, 2.045230, 2.042272] -%}
    case
        {%- for q in table %}
        when {{ df }} = {{ loop.index }} then {{ q }}
        {%- endfor %}
        else 1.959964
    end
{%- endmacro %}

{# The trend per year of a yearly series, with its honest 95% interval (docs/methodology.md#trend-slope),
   written once for every trend Pathways publishes (the gap's and the figure's own, in
   learning_community_gap_trends). Emits four CTEs named `<name>_means`, `<name>_sums`,
   `<name>_residuals` and `<name>` (to follow a comma in a WITH list): from `relation` (one row per
   key and academic_year, already cut to the window), per key with at least 3 years: years_in_window,
   change_per_year (the least-squares slope of `value` on academic_year), sampling_half_width (from
   each year's sampling variance, `variance`), scatter_half_width (from the years' scatter about the
   line, Student's t with years - 2 df), lower_95 and upper_95 (the wider of the two on each side)
   and interval_basis (which was wider). Keys are matched with IS NOT DISTINCT FROM (a learning
   community code is null on the authority's rows). #}
{% macro least_squares_trend(name, relation, keys, value, variance) -%}
    {%- set on_keys -%}
        {%- for k in keys %}{% if not loop.first %} and {% endif %}w.{{ k }} is not distinct from m.{{ k }}{% endfor -%}
    {%- endset -%}
{{ name }}_means as (
    select {{ keys | join(', ') }}, count(*) as years_in_window, avg(academic_year) as mean_year, avg({{ value }}) as mean_value
    from {{ relation }}
    group by {{ keys | join(', ') }}
),

{{ name }}_sums as (
    select
        {% for k in keys %}m.{{ k }}, {% endfor %}m.years_in_window, m.mean_year, m.mean_value,
        sum((w.academic_year - m.mean_year) * (w.academic_year - m.mean_year)) as sxx,
        sum((w.academic_year - m.mean_year) * (w.{{ value }} - m.mean_value)) as sxy,
        sum((w.academic_year - m.mean_year) * (w.academic_year - m.mean_year) * w.{{ variance }}) as sampling_sum
    from {{ relation }} as w
    inner join {{ name }}_means as m on {{ on_keys }}
    where m.years_in_window >= 3
    group by {% for k in keys %}m.{{ k }}, {% endfor %}m.years_in_window, m.mean_year, m.mean_value
),

{{ name }}_residuals as (
    select
        {% for k in keys %}m.{{ k }}, {% endfor %}m.years_in_window,
        m.sxy / m.sxx as change_per_year,
        -- half-widths of the two 95% intervals: sampling only, and the years' scatter about the line
        1.959964 * sqrt(m.sampling_sum) / m.sxx as sampling_half_width,
        {{ t_quantile_975('m.years_in_window - 2') }}
        * sqrt(sum(power(w.{{ value }} - m.mean_value - (m.sxy / m.sxx) * (w.academic_year - m.mean_year), 2))
            / (m.years_in_window - 2) / m.sxx) as scatter_half_width
    from {{ relation }} as w
    inner join {{ name }}_sums as m on {{ on_keys }}
    group by {% for k in keys %}m.{{ k }}, {% endfor %}m.years_in_window, m.sxy, m.sxx, m.sampling_sum
),

{{ name }} as (
    select
        *,
        change_per_year - greatest(sampling_half_width, scatter_half_width) as lower_95,
        change_per_year + greatest(sampling_half_width, scatter_half_width) as upper_95,
        case when scatter_half_width > sampling_half_width then 'year-to-year scatter' else 'sampling variation' end
            as interval_basis
    from {{ name }}_residuals
)
{%- endmacro %}

{# A trend's verdict from its published interval (docs/methodology.md#trend-classification): `below`
   when the interval lies wholly below 0, `above` when wholly above, else 'no clear change'. #}
{% macro trend_verdict(lower, upper, below, above) -%}
    case
        when {{ upper }} < 0 then '{{ below }}'
        when {{ lower }} > 0 then '{{ above }}'
        else 'no clear change'
    end
{%- endmacro %}

{# One year's sampling variance of a measure's proportion `p` over `n` (docs/methodology.md#trend-slope):
   binomial p(1 - p)/n for a percentage of pupils; for an event rate (exclusions per pupil, which can
   pass one per pupil, and months NEET per young-person-month) the Poisson x/n^2 = p/n, never the
   smaller. Events of one pupil, or months of one young person, are not independent: the interval
   from the years' scatter, which the verdict also takes, allows for variation beyond sampling. #}
{% macro sampling_variance(p, n, measure_type) -%}
    case when {{ measure_type }} = 'rate' then {{ p }} / {{ n }} else {{ p }} * (1 - {{ p }}) / {{ n }} end
{%- endmacro %}
