{# Disadvantage per pupil and year is decided in one model, int_pupil_disadvantage_years
   (docs/methodology.md#disadvantage); every model that needs it joins it the same way.
   join_disadvantage('k') adds `disadvantage` to a FROM clause keyed on k.pupil_key and
   k.academic_year; is_disadvantaged() reads it (a pupil with no row is not known to be). #}
{% macro join_disadvantage(pupil_year_alias, alias='disadvantage') -%}
    left join {{ ref('int_pupil_disadvantage_years') }} as {{ alias }}
        on {{ pupil_year_alias }}.pupil_key = {{ alias }}.pupil_key
        and {{ pupil_year_alias }}.academic_year = {{ alias }}.academic_year
{%- endmacro %}

{% macro is_disadvantaged(alias='disadvantage') -%}
    coalesce({{ alias }}.is_disadvantaged, false)
{%- endmacro %}

{# The disadvantage gap, positive when disadvantaged pupils do worse: other - disadvantaged where a
   higher figure is better, disadvantaged - other where lower is better (docs/methodology.md#disadvantage-gap). #}
{% macro disadvantage_gap(higher_is_better, disadvantaged, other) -%}
    (case when {{ higher_is_better }} then {{ other }} - {{ disadvantaged }} else {{ disadvantaged }} - {{ other }} end)
{%- endmacro %}
