-- Grain: academic year x geography (each learning community, and each authority) x measure x
-- breakdown x subgroup. Every row carries numerator, denominator and the pupils (enrolments,
-- for attendance) behind them, so figures re-aggregate; layout follows the EES open-data standard.
-- Attendance from fewer than the year's three terms carries the terms in time_identifier.
--
-- How: each pupil-year's subgroups (int_pupil_subgroups, long) are set side by side, joined once
-- to the outcomes, and aggregated with GROUPING SETS - one set per breakdown, per geography -
-- so the pupil rows are read once rather than once per breakdown. The breakdowns listed here
-- must be those int_pupil_subgroups produces (a data test checks the two agree). Learning
-- communities get only the breakdowns in pathways:community_breakdowns; the others are for the
-- authority only (docs/methodology.md#breakdowns-published-for-learning-communities).
{% set breakdowns = [
    var('pathways:labels')['disadvantage_breakdown'], 'SEN provision', 'SEN primary need', 'First language', 'Sex',
    'Ethnicity major group', 'Gypsy, Roma and Traveller', 'Mobility',
] %}
-- A measure over a resident population (three- and four-year-olds' take-up) carries the population on
-- rows with no pupil: they count in numerator and denominator but not as pupils, and as the population
-- has no characteristics the measure is published at Total only (docs/methodology.md#three_four_year_old_take_up).
{% set keys = 'outcomes.academic_year, outcomes.old_la_code, outcomes.stage, outcomes.measure, outcomes.measure_type' %}

with outcomes as (
    select *, {{ authority_code('laestab') }} as old_la_code from {{ ref('int_pupil_outcomes') }}
),

population_measures as (
    select distinct measure from outcomes
    where pupil_key is null
),

traits as (
    select
        pupil_key,
        academic_year,
        {% for b in breakdowns %}
            max(case when breakdown = '{{ b }}' then subgroup end) as trait_{{ loop.index }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from {{ ref('int_pupil_subgroups') }}
    group by pupil_key, academic_year
),

aggregated as (
    select
        {{ keys }},
        outcomes.learning_community_code,
        grouping(outcomes.learning_community_code) as is_authority,
        case
            {% for b in breakdowns %}
                when grouping(traits.trait_{{ loop.index }}) = 0 then '{{ b }}'
            {% endfor %}
            else {{ label('total') }}
        end as breakdown,
        coalesce({% for b in breakdowns %}traits.trait_{{ loop.index }}, {% endfor %}{{ label('total') }}) as subgroup,
        sum(outcomes.numerator) as numerator,
        sum(outcomes.denominator) as denominator,
        count(outcomes.pupil_key) as pupils
    from outcomes
    left join traits
        on outcomes.pupil_key = traits.pupil_key and outcomes.academic_year = traits.academic_year
    group by grouping sets (
        ({{ keys }}, outcomes.learning_community_code),
        ({{ keys }}),
        {% for b in breakdowns %}
            {% if b in var('pathways:community_breakdowns') %}
                ({{ keys }}, outcomes.learning_community_code, traits.trait_{{ loop.index }}),
            {% endif %}
            ({{ keys }}, traits.trait_{{ loop.index }}){% if not loop.last %},{% endif %}
        {% endfor %}
    )
),

unioned as (
    select
        academic_year,
        case when is_authority = 1 then {{ label('local_authority') }} else {{ label('learning_community') }} end
            as geographic_level,
        old_la_code, learning_community_code, stage, measure, measure_type, breakdown, subgroup, numerator, denominator, pupils
    from aggregated
    -- pupils at a school with no learning community count in the authority only; measures too
    -- rare to break down for a community are published for its pupils as a whole
    where (is_authority = 1 or (
        learning_community_code is not null
        {% if var('pathways:community_totals_only') %}
            and (breakdown = {{ label('total') }} or measure not in (
                {% for m in var('pathways:community_totals_only') %}'{{ m }}'{% if not loop.last %}, {% endif %}{% endfor %}
            ))
        {% endif %}
    ))
    and (breakdown = {{ label('total') }} or measure not in (select population_measures.measure from population_measures))
),

-- a breakdown in which the authority's pupils all fall in one subgroup (two-year-olds have no census
-- characteristics: all 'Unclassified') only repeats the Total, and is not published
informative as (
    select academic_year, old_la_code, measure, breakdown
    from unioned
    where geographic_level = {{ label('local_authority') }}
    group by academic_year, old_la_code, measure, breakdown
    having count(distinct subgroup) > 1 or breakdown = {{ label('total') }}
)

select
    {{ ees_header('unioned.academic_year', "unioned.geographic_level", "unioned.old_la_code",
        "case when unioned.stage = 'attendance' then coalesce(years.attendance_time_identifier, 'Academic year') else 'Academic year' end") }},
    unioned.learning_community_code,
    lc.learning_community_name,
    lc.collaborative,
    unioned.academic_year,
    unioned.stage,
    unioned.measure,
    unioned.measure_type,
    unioned.breakdown,
    unioned.subgroup,
    cast(unioned.numerator as {{ type_double() }}) as numerator,
    cast(unioned.denominator as {{ type_double() }}) as denominator,
    unioned.pupils,
    {{ ratio_value('unioned.measure_type', 'unioned.numerator', 'unioned.denominator', 'm.decimals') }} as value
from unioned
inner join informative
    on unioned.academic_year = informative.academic_year and unioned.old_la_code = informative.old_la_code
        and unioned.measure = informative.measure and unioned.breakdown = informative.breakdown
inner join {{ ref('measures') }} as m on unioned.measure = m.measure
-- attendance summed over only some terms says which, in its time identifier (docs/methodology.md#attendance-terms)
left join {{ ref('dim_academic_years') }} as years on unioned.academic_year = years.academic_year
left join {{ ref('stg_reference__learning_communities') }} as lc
    on unioned.learning_community_code = lc.learning_community_code
