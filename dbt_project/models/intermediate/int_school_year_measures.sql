-- School-level figures per year and measure, for all pupils and by disadvantage, used to
-- categorise schools. Same sums as the learning community marts, one level down.
with tagged as (
    select outcomes.*, {{ label('total') }} as subgroup
    from {{ ref('int_pupil_outcomes') }} as outcomes
    union all
    select outcomes.*, {{ disadvantage_subgroup(is_disadvantaged()) }}
    from {{ ref('int_pupil_outcomes') }} as outcomes
    {{ join_disadvantage('outcomes') }}
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
    {{ ratio_value('measure_type', 'sum(numerator)', 'sum(denominator)') }} as value
from tagged
where measure in ('ks2_rwm_expected', 'ks4_basics_grade_4', 'ks4_local_progress_8', 'overall_absence_rate', 'persistent_absence')
group by laestab, academic_year, measure, measure_type, subgroup
