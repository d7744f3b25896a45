-- One row per pupil per school per census term, codes decoded. Staging only renames, casts and decodes.
with source as (
    select * from {{ source('raw', 'census') }}
)

select
    upload_id,
    row_number as source_row_number,
    academic_year,
    term,
    case term when 'autumn' then 1 when 'spring' then 2 when 'summer' then 3 end as term_order,
    census_date,
    laestab,
    pupil_key,
    age_months_at_31_august,
    sex,
    ethnicity as ethnicity_code,
    first_language,
    -- EAL: first language known or believed to be other than English (OTB counts; NOT is unknown)
    case
        when first_language in ('ENG', 'ENB') then false
        when first_language = 'NOT' or first_language is null then null
        else true
    end as is_eal,
    nc_year,
    case
        when nc_year = 'R' then 0
        when nc_year in ('N1', 'N2', 'E1', 'E2', 'X') then null
        else {{ safe_integer('nc_year') }}
    end as nc_year_number,
    enrol_status,
    -- a dual-registered pupil counts once, at the main (M) school
    enrol_status in ('C', 'M', 'F') as is_main_enrolment,
    entry_date,
    coalesce(fsm_eligible, false) as is_fsm_eligible,
    case when sen_provision = 'S' then 'E' else coalesce(sen_provision, 'N') end as sen_provision,
    sen_primary_need
from source
