-- One row per school, year and rule that fired: the evidence behind a school's category.
-- Rules (thresholds in macros/categorisation.sql, overridable by setting):
--   attainment   headline (KS2 RWM expected; KS4 grade 4+ English and maths) below the national
--                figure (the authority's where no national figure is held) by >= red/amber points;
--   progress     KS4 local progress 8 at or below the red/amber thresholds;
--   gap          disadvantaged gap wider than the national gap by >= red/amber points, or
--                widened by >= gap_widened_pp since the school's previous year with results;
--   trend        headline fell by >= decline_amber_pp since the previous year with results;
--   attendance   overall absence above that of the authority's schools of the same phase by
--                >= red/amber points; persistent absence likewise by >= its red threshold.
-- Figures on fewer than min_pupils pupils are not judged.
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

signals as (
    select
        laestab, academic_year, rule,
        case when difference <= -{{ r.attainment_red_pp }} then 'red' else 'amber' end as level,
        measure || ' ' || cast({{ round_half_up("-difference", 1) }} as {{ dbt.type_string() }}) || ' points below the ' || compared_with || ' figure'
            as reason
    from attainment
    where difference <= -{{ r.attainment_amber_pp }}
    union all
    select
        laestab, academic_year, 'progress',
        case when value <= {{ r.progress_red }} then 'red' else 'amber' end,
        'local progress 8 of ' || cast({{ round_half_up("value", 2) }} as {{ dbt.type_string() }})
    from {{ ref('int_school_year_measures') }}
    where measure = 'ks4_local_progress_8' and subgroup = {{ label('total') }} and pupils >= {{ r.min_pupils }}
        and value <= {{ r.progress_amber }}
    union all
    select
        laestab, academic_year, 'gap',
        case when gap - national_gap >= {{ r.gap_red_pp }} then 'red' else 'amber' end,
        measure || ' disadvantaged gap ' || cast({{ round_half_up("gap", 1) }} as {{ dbt.type_string() }})
        || ' points, ' || cast({{ round_half_up("gap - national_gap", 1) }} as {{ dbt.type_string() }}) || ' wider than national'
    from gaps
    where gap - national_gap >= {{ r.gap_amber_pp }}
    union all
    select
        laestab, academic_year, 'gap', 'amber',
        measure || ' disadvantaged gap widened by ' || cast({{ round_half_up("gap - previous_gap", 1) }} as {{ dbt.type_string() }})
        || ' points since the previous year'
    from gaps
    where gap - previous_gap >= {{ r.gap_widened_pp }}
    union all
    select
        laestab, academic_year, 'trend', 'amber',
        measure || ' fell ' || cast({{ round_half_up("-change", 1) }} as {{ dbt.type_string() }}) || ' points since the previous year'
    from trend
    where change <= -{{ r.decline_amber_pp }}
    union all
    select
        laestab, academic_year, 'attendance',
        case when measure = 'persistent_absence' or difference >= {{ r.absence_red_pp }} then 'red' else 'amber' end,
        measure || ' ' || cast({{ round_half_up("difference", 1) }} as {{ dbt.type_string() }}) || ' points above schools of the same phase'
    from attendance
    where (measure = 'overall_absence_rate' and difference >= {{ r.absence_amber_pp }})
        or (measure = 'persistent_absence' and difference >= {{ r.persistent_absence_red_pp }})
)

select * from signals
