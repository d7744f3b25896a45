-- One row per school, year and rule that fired: the evidence behind a school's category.
-- Rules (thresholds in macros/categorisation.sql, overridable by setting):
--   attainment   headline (KS2 RWM expected; KS4 grade 4+ English and maths) below the national
--                figure (the authority's where no national figure is held) by >= red/amber points;
--   progress     KS4 local progress 8 at or below the red/amber thresholds;
--   gap          disadvantaged gap wider than the national gap by >= red/amber points, or
--                widened by >= gap_widened_pp since the school's previous year with results;
--   trend        headline fell by >= decline_amber_pp since the previous year with results;
--   attendance   overall absence above that of the authority's schools of the same phase by
--                >= red/amber points; persistent absence likewise by >= its red threshold;
--   inspection   the Ofsted inspection in force that year (the latest published by its end) has a red
--                or amber grade in the ofsted_grades seed: Inadequate, Urgent improvement, safeguarding
--                not effective or not met, a category of concern (red); Requires improvement, Needs
--                attention (amber). The reason names the inspection, its dates and the grades.
-- Figures on fewer than min_pupils pupils are not judged. Data-driven reasons name the threshold crossed,
-- never the school's figure (docs/methodology.md#suppression-of-derived-tables): a figure would give a
-- school's count.
{% set r = categorisation_rules() %}
with headline as (
    select s.*
    from {{ ref('int_school_year_measures') }} as s
    where s.measure in ('ks2_rwm_expected', 'ks4_basics_grade_4')
),

la as (
    select academic_year, old_la_code, measure, subgroup, 100 * cast(sum(numerator) as {{ type_double() }}) / nullif(sum(denominator), 0) as la_value
    from {{ ref('int_school_year_measures') }}
    where measure_type in ('percentage', 'rate')
    group by academic_year, old_la_code, measure, subgroup
),

-- attendance is compared with the authority's schools of the same phase (a special school with
-- special schools)
same_phase as (
    select
        s.academic_year, s.old_la_code, s.measure, est.phase,
        100 * cast(sum(s.numerator) as {{ type_double() }}) / nullif(sum(s.denominator), 0) as phase_value
    from {{ ref('int_school_year_measures') }} as s
    inner join {{ ref('int_establishments') }} as est on s.laestab = est.laestab
    where s.subgroup = {{ label('total') }} and s.measure in ('overall_absence_rate', 'persistent_absence')
    group by s.academic_year, s.old_la_code, s.measure, est.phase
),

national as (
    select time_period, measure, subgroup, value from {{ ref('national_benchmarks') }}
),

attainment as (
    select
        h.laestab, h.academic_year, 'attainment' as rule,
        h.value - coalesce(n.value, la.la_value) as difference,
        case when n.value is not null then 'national' else 'authority' end as compared_with,
        h.measure
    from headline as h
    left join national as n
        on n.time_period = {{ time_period('h.academic_year') }} and h.measure = n.measure and n.subgroup = {{ label('total') }}
    left join la
        on h.academic_year = la.academic_year and h.old_la_code = la.old_la_code and h.measure = la.measure
            and la.subgroup = {{ label('total') }}
    where h.subgroup = {{ label('total') }} and h.pupils >= {{ r.min_pupils }}
),

gaps as (
    select
        d.laestab, d.academic_year, d.measure,
        o.value - d.value as gap,
        lag(o.value - d.value) over (partition by d.laestab, d.measure order by d.academic_year) as previous_gap,
        nat_o.value - nat_d.value as national_gap
    from headline as d
    inner join headline as o
        on d.laestab = o.laestab and d.academic_year = o.academic_year and d.measure = o.measure
            and o.subgroup = {{ label('not_disadvantaged') }}
    left join national as nat_d
        on nat_d.time_period = {{ time_period('d.academic_year') }} and d.measure = nat_d.measure and nat_d.subgroup = {{ label('disadvantaged') }}
    left join national as nat_o
        on nat_o.time_period = {{ time_period('d.academic_year') }} and d.measure = nat_o.measure
            and nat_o.subgroup = {{ label('not_disadvantaged') }}
    where d.subgroup = {{ label('disadvantaged') }} and d.pupils >= {{ r.min_pupils }} and o.pupils >= {{ r.min_pupils }}
),

trend as (
    select
        laestab, academic_year, measure,
        value - lag(value) over (partition by laestab, measure order by academic_year) as change
    from headline
    where subgroup = {{ label('total') }} and pupils >= {{ r.min_pupils }}
),

attendance as (
    select s.laestab, s.academic_year, s.measure, s.value - p.phase_value as difference
    from {{ ref('int_school_year_measures') }} as s
    inner join {{ ref('int_establishments') }} as est on s.laestab = est.laestab
    inner join
        same_phase
            as p
        on s.academic_year = p.academic_year and s.old_la_code = p.old_la_code
            and s.measure = p.measure and est.phase = p.phase
    where s.measure in ('overall_absence_rate', 'persistent_absence') and s.subgroup = {{ label('total') }}
        and s.pupils >= {{ r.min_pupils }}
),

inspection as (
    select
        y.laestab, y.academic_year, i.signal_level,
        'Ofsted inspection ' || coalesce(i.inspection_number || ' ', '') || '(' || i.framework || ')'
        || coalesce(' started ' || cast(i.inspection_start_date as {{ dbt.type_string() }}), '')
        || ', published ' || cast(i.publication_date as {{ dbt.type_string() }}) || ': ' || i.signal_judgements as reason,
        row_number() over (partition by y.laestab, y.academic_year order by i.publication_date desc) as recency
    from (select distinct laestab, academic_year from {{ ref('int_school_year_measures') }}) as y
    inner join {{ ref('int_school_inspections') }} as i
        on y.laestab = i.laestab and y.academic_year >= i.published_academic_year
),

signals as (
    select
        laestab, academic_year, rule,
        case when difference <= -{{ r.attainment_red_pp }} then 'red' else 'amber' end as level,
        measure || ' at least '
        || case when difference <= -{{ r.attainment_red_pp }} then '{{ r.attainment_red_pp }}' else '{{ r.attainment_amber_pp }}' end
        || ' points below the ' || compared_with || ' figure' as reason
    from attainment
    where difference <= -{{ r.attainment_amber_pp }}
    union all
    select
        laestab, academic_year, 'progress',
        case when value <= {{ r.progress_red }} then 'red' else 'amber' end,
        'local progress 8 at or below '
        || case when value <= {{ r.progress_red }} then '{{ r.progress_red }}' else '{{ r.progress_amber }}' end
    from {{ ref('int_school_year_measures') }}
    where measure = 'ks4_local_progress_8' and subgroup = {{ label('total') }} and pupils >= {{ r.min_pupils }}
        and value <= {{ r.progress_amber }}
    union all
    select
        laestab, academic_year, 'gap',
        case when gap - national_gap >= {{ r.gap_red_pp }} then 'red' else 'amber' end,
        measure || ' disadvantaged gap at least '
        || case when gap - national_gap >= {{ r.gap_red_pp }} then '{{ r.gap_red_pp }}' else '{{ r.gap_amber_pp }}' end
        || ' points wider than national'
    from gaps
    where gap - national_gap >= {{ r.gap_amber_pp }}
    union all
    select
        laestab, academic_year, 'gap', 'amber',
        measure || ' disadvantaged gap widened by at least {{ r.gap_widened_pp }} points since the previous year'
    from gaps
    where gap - previous_gap >= {{ r.gap_widened_pp }}
    union all
    select
        laestab, academic_year, 'trend', 'amber',
        measure || ' fell at least {{ r.decline_amber_pp }} points since the previous year'
    from trend
    where change <= -{{ r.decline_amber_pp }}
    union all
    select
        laestab, academic_year, 'attendance',
        case when measure = 'persistent_absence' or difference >= {{ r.absence_red_pp }} then 'red' else 'amber' end,
        measure || ' at least '
        || case
            when measure = 'persistent_absence' then '{{ r.persistent_absence_red_pp }}'
            when difference >= {{ r.absence_red_pp }} then '{{ r.absence_red_pp }}'
            else '{{ r.absence_amber_pp }}'
        end
        || ' points above schools of the same phase'
    from attendance
    where (measure = 'overall_absence_rate' and difference >= {{ r.absence_amber_pp }})
        or (measure = 'persistent_absence' and difference >= {{ r.persistent_absence_red_pp }})
    union all
    select laestab, academic_year, 'inspection', signal_level, reason
    from inspection
    where recency = 1 and signal_level is not null
)

select * from signals
