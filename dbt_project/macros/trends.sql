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
