-- The pupil-year spine: one row per pupil per academic year, from the January (spring) census,
-- or the pupil's first census of the year when they were not on roll in January.
-- Business rules: a dual-registered pupil is counted once, at the main (M) school; the learning
-- community is that of the school.
with main_enrolments as (
    select *
    from {{ ref('stg_census__pupil_terms') }}
    where is_main_enrolment
),

ranked as (
    select
        *,
        row_number() over (
            partition by pupil_key, academic_year
            order by case term when 'spring' then 1 when 'autumn' then 2 else 3 end, entry_date desc, laestab
        ) as preference
    from main_enrolments
)

select
    ranked.pupil_key,
    ranked.academic_year,
    ranked.laestab,
    est.learning_community_code,
    ranked.term as census_term,
    ranked.nc_year,
    ranked.nc_year_number,
    ranked.age_months_at_31_august,
    ranked.sex,
    ranked.ethnicity_code,
    eth.ethnicity_major_group,
    coalesce(eth.is_gypsy_roma_traveller, false) as is_gypsy_roma_traveller,
    ranked.is_eal,
    ranked.sen_provision,
    ranked.sen_primary_need,
    ranked.is_fsm_eligible
from ranked
left join {{ ref('int_establishments') }} as est on ranked.laestab = est.laestab
left join {{ ref('ethnicity_codes') }} as eth on ranked.ethnicity_code = eth.ethnicity_code
where ranked.preference = 1
