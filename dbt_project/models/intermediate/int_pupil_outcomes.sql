-- The long outcomes table: one row per pupil (per enrolment, for attendance), year and measure,
-- with the school and learning community the measure is attributed to. Each row carries its
-- own numerator and denominator, so every mart is one sum over this table:
--   percentage: 1/0 over 1 (pupils meeting the measure over eligible pupils)
--   average:    the pupil's value over 1 (sum of values over pupils)
--   rate:       sessions missed over possible sessions (attendance)
--   count:      1 over 1 (pupils)
-- Numerators and denominators are decimals (type_exact_sum): their sums are exact, so a figure does
-- not depend on the order an engine adds the pupils up in.
-- Each measure is one row of the `measures` seed (its pupil-level model, numerator, denominator
-- and population condition); Pathways reads the seed and passes it as the var pathways:measures,
-- so adding a measure is one line there (docs/methodology.md#measures).
{% set measures = var('pathways:measures') %}

{% for m in measures %}
    select
        pupil_key,
        academic_year,
        laestab,
        learning_community_code,
        '{{ m.stage }}' as stage,
        '{{ m.measure }}' as measure,
        '{{ m.measure_type }}' as measure_type,
        {% if m.measure_type == 'percentage' -%}
            cast(case when {{ m.numerator }} then 1 else 0 end as {{ type_exact_sum() }})
        {%- else -%}
            cast({{ m.numerator }} as {{ type_exact_sum() }})
        {%- endif %} as numerator,
        cast({{ m.denominator }} as {{ type_exact_sum() }}) as denominator
    from {{ ref(m.pupil_model) }}
    where {{ m.population }}
    {% if not loop.last %}union all{% endif %}
{% endfor %}
