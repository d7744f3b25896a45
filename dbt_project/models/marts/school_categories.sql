-- Grain: school (LAESTAB) x academic year. Green / amber / red from the signals in
-- int_school_category_signals, each category with the reasons that triggered it.
-- Business rule: red when red signals >= red_signals_for_red, or one red with
-- amber_signals_for_amber ambers; amber when any red or >= amber_signals_for_amber ambers;
-- otherwise green; with inspection_sets_floor, a red (amber) Ofsted inspection in force makes the
-- school at least red (amber) by itself. Schools with no judged figures that year are not categorised.
-- ofsted_inspection names the inspection in force that year, whatever its grades.
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
        max(case when s.rule = 'inspection' and s.level = 'red' then 2 when s.rule = 'inspection' then 1 else 0 end)
            as inspection_level,
        {{ ordered_listagg("s.level || ': ' || s.reason", "'; '", "s.level desc nulls last, s.rule nulls last, s.reason nulls last") }} as reasons
    from judged as j
    left join {{ ref('int_school_category_signals') }} as s
        on j.laestab = s.laestab and j.academic_year = s.academic_year
    group by j.laestab, j.academic_year
),

in_force as (
    select
        y.laestab,
        y.academic_year,
        'Ofsted inspection ' || coalesce(i.inspection_number || ' ', '') || '(' || i.framework || ')'
        || coalesce(' started ' || cast(i.inspection_start_date as {{ dbt.type_string() }}), '')
        || ', published ' || cast(i.publication_date as {{ dbt.type_string() }}) || ': ' || i.outcome as inspection,
        row_number() over (partition by y.laestab, y.academic_year order by i.publication_date desc) as recency
    from judged as y
    inner join {{ ref('int_school_inspections') }} as i
        on y.laestab = i.laestab and y.academic_year >= i.published_academic_year
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
        when {{ r.inspection_sets_floor }} = 1 and counts.inspection_level = 2 then 'red'
        when {{ r.inspection_sets_floor }} = 1 and counts.inspection_level = 1 then 'amber'
        when counts.red_signals >= 1 or counts.amber_signals >= {{ r.amber_signals_for_amber }} then 'amber'
        else 'green'
    end as category,
    cast(counts.red_signals as {{ dbt.type_bigint() }}) as red_signals,
    cast(counts.amber_signals as {{ dbt.type_bigint() }}) as amber_signals,
    coalesce(counts.reasons, 'no rule triggered') as reasons,
    cast(in_force.inspection as {{ dbt.type_string() }}) as ofsted_inspection
from counts
left join {{ ref('int_establishments') }} as est on counts.laestab = est.laestab
left join in_force
    on counts.laestab = in_force.laestab and counts.academic_year = in_force.academic_year and in_force.recency = 1
