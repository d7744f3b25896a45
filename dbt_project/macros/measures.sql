{# EES time_period for an academic year starting in `year_col`: 2023 -> 202324. #}
{% macro time_period(year_col) -%}
    ({{ year_col }} * 100 + mod({{ year_col }} + 1, 100))
{%- endmacro %}

{# Percentage to one decimal place, null when there is no denominator. #}
{% macro percentage(numerator, denominator) -%}
    {{ ratio_value("'percentage'", numerator, denominator, 1) }}
{%- endmacro %}

{# A figure from its numerator and denominator (docs/methodology.md#measures): percentages and
   rates are 100 x numerator / denominator, averages numerator / denominator, counts the
   numerator; rounded to `decimals` (unrounded when none); null when there is no denominator. #}
{% macro ratio_value(measure_type, numerator, denominator, decimals=none) -%}
    case
        when {{ measure_type }} in ('percentage', 'rate')
            then {{ rounded('100 * cast(' ~ numerator ~ ' as ' ~ type_double() ~ ') / nullif(' ~ denominator ~ ', 0)', decimals) }}
        when {{ measure_type }} = 'count' then {{ numerator }}
        else {{ rounded('cast(' ~ numerator ~ ' as ' ~ type_double() ~ ') / nullif(' ~ denominator ~ ', 0)', decimals) }}
    end
{%- endmacro %}

{% macro rounded(expression, decimals) -%}
    {%- if decimals is none -%}{{ expression }}{%- else -%}{{ round_half_up(expression, decimals) }}{%- endif -%}
{%- endmacro %}

{# The authority a school belongs to: a LAESTAB is the LA code (3 digits) then the
   establishment number (4), so the code is the LAESTAB's first three digits. Text, as EES has it. #}
{% macro authority_code(laestab) -%}
    cast(cast(floor({{ laestab }} / 10000) as {{ dbt.type_int() }}) as {{ dbt.type_string() }})
{%- endmacro %}

{# The EES geography columns every published row carries, for the authority in `la_code`
   (one warehouse can hold several). The deploying authority is named by its settings; another
   authority, whose name the warehouse does not hold, by its code. #}
{% macro ees_geography_columns(la_code) -%}
    'E92000001' as country_code,
    'England' as country_name,
    case when {{ la_code }} = '{{ var("pathways:old_la_code") }}' then '{{ var("pathways:new_la_code") }}' end as new_la_code,
    {{ la_code }} as old_la_code,
    case when {{ la_code }} = '{{ var("pathways:old_la_code") }}' then '{{ var("pathways:la_name") }}'
         else {{ dbt.concat(["'Local authority '", la_code]) }} end as la_name
{%- endmacro %}

{# Wilson score interval bounds for a proportion x/n (95%): used for Newcombe's method. #}
{% macro wilson_bound(x, n, sign, z="cast(1.959964 as " ~ type_double() ~ ")") -%}
    (
        ({{ x }} / nullif({{ n }}, 0) + {{ z }} * {{ z }} / (2.0 * {{ n }}))
        {{ sign }} {{ z }} * sqrt(
            ({{ x }} / nullif({{ n }}, 0)) * (1 - {{ x }} / nullif({{ n }}, 0)) / {{ n }}
            + {{ z }} * {{ z }} / (4.0 * {{ n }} * {{ n }})
        )
    ) / (1 + {{ z }} * {{ z }} / {{ n }})
{%- endmacro %}

{# The EES columns that open every published row: time period, time identifier (the whole
   academic year unless told otherwise, e.g. attendance from only some terms), geographic level
   and the country and authority codes. #}
{% macro ees_header(year_col, geographic_level, la_code, time_identifier="'Academic year'") -%}
    {{ time_period(year_col) }} as time_period,
    {{ time_identifier }} as time_identifier,
    {{ geographic_level }} as geographic_level,
    {{ ees_geography_columns(la_code) }}
{%- endmacro %}
