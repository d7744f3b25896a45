-- School-level figures per year and measure, for all pupils and by disadvantage, used to
-- categorise schools. Same sums as the learning community marts, one level down.
with tagged as (
    select outcomes.*, 'Total' as subgroup
    from {{ ref('int_pupil_outcomes') }} as outcomes
    union all
    select outcomes.*,
        case when coalesce(d.is_disadvantaged, false) then 'Disadvantaged' else 'Not known to be disadvantaged' end
    from {{ ref('int_pupil_outcomes') }} as outcomes
    left join {{ ref('int_pupil_disadvantage_years') }} as d
        on outcomes.pupil_key = d.pupil_key and outcomes.academic_year = d.academic_year
)

select
    laestab,
    {{ authority_code('laestab') }} as old_la_code,
    academic_year,
    measure,
    measure_type,
    subgroup,
    sum(numerator) as numerator,
    sum(denominator) as denominator,
    count(*) as pupils,
    case when measure_type in ('percentage', 'rate') then 100.0 * sum(numerator) / nullif(sum(denominator), 0)
         else sum(numerator) / nullif(sum(denominator), 0) end as value
from tagged
where measure in ('ks2_rwm_expected', 'ks4_basics_grade_4', 'ks4_local_progress_8', 'overall_absence_rate', 'persistent_absence')
group by laestab, academic_year, measure, measure_type, subgroup
