{# School categorisation rules (green / amber / red). Defaults here; an authority overrides any of
   them with the setting PATHWAYS_CATEGORISATION_RULES='{"attainment_red_pp": 12, ...}', which
   Pathways passes as the var pathways:categorisation_rules (docs/methodology.md#school-categorisation).
   inspection_sets_floor: 1 = a red (amber) Ofsted inspection makes the school at least red (amber) on
   its own; 0 = an inspection signal counts like any other signal. The grades' signals are the seed
   ofsted_grades. #}
{% macro categorisation_rules() -%}
    {%- set rules = {
        "min_pupils": 10,
        "attainment_red_pp": 10,
        "attainment_amber_pp": 3,
        "gap_red_pp": 10,
        "gap_amber_pp": 5,
        "gap_widened_pp": 5,
        "decline_amber_pp": 10,
        "progress_red": -0.5,
        "progress_amber": -0.25,
        "absence_red_pp": 2.0,
        "absence_amber_pp": 1.0,
        "persistent_absence_red_pp": 10,
        "red_signals_for_red": 2,
        "amber_signals_for_amber": 2,
        "inspection_sets_floor": 1
    } -%}
    {%- do rules.update(var('pathways:categorisation_rules')) -%}
    {{ return(rules) }}
{%- endmacro %}
