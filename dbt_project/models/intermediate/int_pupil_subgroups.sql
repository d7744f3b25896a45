-- Which subgroups each pupil belongs to in each year, long: (breakdown, subgroup), always
-- including the all-pupils row ('Total', 'Total'). A new breakdown is a new union here, not a
-- new mart. Disadvantage follows the pupil premium file of the same year.
with pupil_years as (
    select distinct pupil_key, academic_year from {{ ref('int_pupil_outcomes') }}
)

select pupil_key, academic_year, 'Total' as breakdown, 'Total' as subgroup
from pupil_years

union all

select
    py.pupil_key,
    py.academic_year,
    'Disadvantage' as breakdown,
    case when coalesce(d.is_disadvantaged, false) then 'Disadvantaged' else 'Not known to be disadvantaged' end
        as subgroup
from pupil_years as py
left join {{ ref('int_pupil_disadvantage_years') }} as d
    on py.pupil_key = d.pupil_key and py.academic_year = d.academic_year
