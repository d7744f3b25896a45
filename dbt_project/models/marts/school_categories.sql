-- Grain: school (LAESTAB) x academic year. Green / amber / red from the signals in
-- int_school_category_signals, each category with the reasons that triggered it.
-- Business rule: red when red signals >= red_signals_for_red, or one red with
-- amber_signals_for_amber ambers; amber when any red or >= amber_signals_for_amber ambers;
-- otherwise green. Schools with no judged figures that year are not categorised.
{% set r = categorisation_rules() %}
with judged as (
    select distinct laestab, academic_year
    from {{ ref('int_school_year_measures') }}
    where pupils >= {{ r.min_pupils }}
        and measure in ('ks2_rwm_expected', 'ks4_basics_grade_4', 'overall_absence_rate')
),

counts as (
    select
        j.laestab,
        j.academic_year,
        sum(case when s.level = 'red' then 1 else 0 end) as red_signals,
        sum(case when s.level = 'amber' then 1 else 0 end) as amber_signals,
        {{ ordered_listagg("s.level || ': ' || s.reason", "'; '", "s.level desc nulls last, s.rule nulls last, s.reason nulls last") }} as reasons
    from judged as j
    left join {{ ref('int_school_category_signals') }} as s
        on j.laestab = s.laestab and j.academic_year = s.academic_year
    group by j.laestab, j.academic_year
)

select
    {{ ees_header('counts.academic_year', "'School'", authority_code('counts.laestab')) }},
    est.urn as school_urn,
    counts.laestab as school_laestab,
    est.school_name,
    est.phase,
    est.learning_community_code,
    est.learning_community_name,
    counts.academic_year,
    case
        when counts.red_signals >= {{ r.red_signals_for_red }}
            or (counts.red_signals >= 1 and counts.amber_signals >= {{ r.amber_signals_for_amber }}) then 'red'
        when counts.red_signals >= 1 or counts.amber_signals >= {{ r.amber_signals_for_amber }} then 'amber'
        else 'green'
    end as category,
    cast(counts.red_signals as {{ dbt.type_bigint() }}) as red_signals,
    cast(counts.amber_signals as {{ dbt.type_bigint() }}) as amber_signals,
    coalesce(counts.reasons, 'no rule triggered') as reasons
from counts
left join {{ ref('int_establishments') }} as est on counts.laestab = est.laestab
