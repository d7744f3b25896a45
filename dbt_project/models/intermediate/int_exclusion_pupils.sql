-- One row per pupil, academic year and school for the exclusion measures: the pupils on roll at
-- the January (spring) census, the headcount DfE divides by, and every pupil a school excluded that
-- year, with the school's suspensions and permanent exclusions of them (docs/methodology.md#exclusions).
-- Business rules:
--   * numerators count events at the excluding school, whether or not the pupil was on its roll in
--     January (a pupil permanently excluded in the autumn is still counted); the headcount is main
--     enrolments on the January census (int_pupil_years), 1 for those pupils and 0 for the others;
--   * school_type from the school's phase and type: Primary, Secondary, Special, Alternative
--     provision (PRUs and AP academies, which DfE publishes apart) or Other (nursery schools); the
--     headline rates are state-funded primary, secondary and special schools, as DfE's 'Total';
--   * only years whose exclusions cover all three terms are measured (a year still being returned
--     would understate its rates).
with exclusions as (
    select
        pupil_key,
        academic_year,
        laestab,
        sum(case when counted_as = 'permanent' then 1 else 0 end) as permanent_exclusions,
        sum(case when counted_as = 'suspension' then 1 else 0 end) as suspensions
    from {{ ref('stg_exclusions__exclusions') }}
    where counted_as in ('permanent', 'suspension')
    group by pupil_key, academic_year, laestab
),

complete_years as (
    select academic_year
    from {{ ref('stg_exclusions__exclusions') }}
    group by academic_year
    having count(distinct term) = 3
),

on_roll as (
    select pupil_key, academic_year, laestab
    from {{ ref('int_pupil_years') }}
    where academic_year in (select complete_years.academic_year from complete_years)
),

pupils as (
    select
        coalesce(on_roll.pupil_key, exclusions.pupil_key) as pupil_key,
        coalesce(on_roll.academic_year, exclusions.academic_year) as academic_year,
        coalesce(on_roll.laestab, exclusions.laestab) as laestab,
        case when on_roll.pupil_key is not null then 1 else 0 end as headcount,
        coalesce(exclusions.permanent_exclusions, 0) as permanent_exclusions,
        coalesce(exclusions.suspensions, 0) as suspensions
    from on_roll
    full outer join exclusions
        on
            on_roll.pupil_key = exclusions.pupil_key
            and on_roll.academic_year = exclusions.academic_year
            and on_roll.laestab = exclusions.laestab
)

select
    pupils.pupil_key,
    pupils.academic_year,
    pupils.laestab,
    est.learning_community_code,
    case
        when lower(est.establishment_type) like '%referral%' or lower(est.establishment_type) like '%alternative%'
            then 'Alternative provision'
        when lower(est.establishment_type) like '%special%' or lower(est.phase) = 'special' then 'Special'
        when lower(est.phase) in ('primary', 'infant', 'junior', 'middle deemed primary') then 'Primary'
        when lower(est.phase) in ('secondary', 'middle deemed secondary', 'all-through', '16 plus') then 'Secondary'
        else 'Other'
    end as school_type,
    pupils.headcount,
    pupils.permanent_exclusions,
    pupils.suspensions
from pupils
left join {{ ref('int_establishments') }} as est on pupils.laestab = est.laestab
where pupils.academic_year in (select complete_years.academic_year from complete_years)
