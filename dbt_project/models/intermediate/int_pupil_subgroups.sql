-- Which subgroups each pupil belongs to in each year, long: (breakdown, subgroup), always
-- including the all-pupils row ('Total', 'Total'). A new breakdown is one more union here, not a
-- new mart. Characteristics come from the pupil-year record (the January census only); a pupil
-- with an outcome but not on that census is 'Unclassified' in every breakdown except
-- disadvantage, which int_pupil_disadvantage_years decides (docs/methodology.md#breakdowns).
with pupil_years as (
    select distinct outcomes.pupil_key, outcomes.academic_year
    from {{ ref('int_pupil_outcomes') }} as outcomes
    -- a population row (three- and four-year-olds' take-up) is no pupil and has no subgroups
    where outcomes.pupil_key is not null
),

traits as (
    select
        py.pupil_key,
        py.academic_year,
        {{ is_disadvantaged() }} as is_disadvantaged,
        spine.sen_provision,
        spine.sen_primary_need,
        spine.is_eal,
        spine.sex,
        spine.ethnicity_major_group,
        spine.is_gypsy_roma_traveller,
        spine.arrived_after_autumn_census,
        spine.moved_school_this_year,
        spine.pupil_key is not null as on_census
    from pupil_years as py
    left join {{ ref('int_pupil_years') }} as spine
        on py.pupil_key = spine.pupil_key and py.academic_year = spine.academic_year
    {{ join_disadvantage('py') }}
),

long as (
    select pupil_key, academic_year, {{ label('total') }} as breakdown, {{ label('total') }} as subgroup from traits
    union all
    select
        pupil_key, academic_year, {{ label('disadvantage_breakdown') }},
        {{ disadvantage_subgroup('is_disadvantaged') }}
    from traits
    union all
    select
        pupil_key, academic_year, 'SEN provision',
        case when not on_census then 'Unclassified'
            when sen_provision = 'E' then 'EHC plan'
            when sen_provision = 'K' then 'SEN support'
            else 'No SEN'
        end
    from traits
    union all
    select
        pupil_key, academic_year, 'SEN primary need',
        case when not on_census then 'Unclassified'
            when sen_provision in ('E', 'K') then coalesce(sen_primary_need, 'Not recorded')
            else 'No SEN'
        end
    from traits
    union all
    select
        pupil_key, academic_year, 'First language',
        case when is_eal then 'Known or believed to be other than English'
            when not is_eal then 'Known or believed to be English'
            else 'Unclassified'
        end
    from traits
    union all
    select
        pupil_key, academic_year, 'Sex',
        case sex when 'M' then 'Male' when 'F' then 'Female' else 'Unclassified' end
    from traits
    union all
    select pupil_key, academic_year, 'Ethnicity major group', coalesce(ethnicity_major_group, 'Unclassified')
    from traits
    union all
    select
        pupil_key, academic_year, 'Gypsy, Roma and Traveller',
        case when not on_census then 'Unclassified'
            when is_gypsy_roma_traveller then 'Gypsy, Roma or Traveller'
            else 'Not Gypsy, Roma or Traveller'
        end
    from traits
    union all
    select
        pupil_key, academic_year, 'Mobility',
        case when not on_census then 'Unclassified'
            when arrived_after_autumn_census or moved_school_this_year then 'Mobile'
            else 'Stable'
        end
    from traits
)

select * from long
