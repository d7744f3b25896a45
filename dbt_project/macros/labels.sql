{# Labels published in the figures (config/labels.py is their one definition; Pathways passes
   them as the var pathways:labels). label('disadvantaged') renders 'Disadvantaged', quoted. #}
{% macro label(name) -%}
    '{{ var("pathways:labels")[name] }}'
{%- endmacro %}

{# The disadvantage subgroup of a pupil from a boolean. #}
{% macro disadvantage_subgroup(is_disadvantaged) -%}
    case when {{ is_disadvantaged }} then {{ label('disadvantaged') }} else {{ label('not_disadvantaged') }} end
{%- endmacro %}
