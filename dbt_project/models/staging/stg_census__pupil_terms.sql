-- One row per pupil per school per census term, codes decoded. Staging only renames, casts and decodes.
with source as (
    select * from {{ source('raw', 'census') }}
)

select
    source.upload_id,
    source.row_number as source_row_number,
    source.academic_year,
    source.term,
    case source.term when 'autumn' then 1 when 'spring' then 2 when 'summer' then 3 end as term_order,
    source.census_date,
    source.laestab,
    source.pupil_key,
    source.age_months_at_31_august,
    source.sex,
    source.ethnicity as ethnicity_code,
    source.first_language,
    -- EAL: first language known or believed to be other than English (OTB counts; NOT, REF and ZZZ are
    -- unknown); the CBDS language list says which is which (seed first_languages)
    case
        when source.first_language is null or lang.eal_status = 'unknown' then null
        else coalesce(lang.eal_status, 'other') != 'english'
    end as is_eal,
    source.nc_year,
    -- the year's number from the CBDS NC year list (seed nc_years: Reception 0, nursery and X none)
    case
        when ncy.nc_year is not null then ncy.nc_year_number
        else {{ safe_integer('source.nc_year') }}
    end as nc_year_number,
    source.enrol_status,
    -- a dual-registered pupil counts once, at the main (M) school (seed enrolment_statuses)
    case when source.enrol_status is not null then coalesce(enrol.is_main_enrolment, false) end as is_main_enrolment,
    source.entry_date,
    coalesce(source.fsm_eligible, false) as is_fsm_eligible,
    -- historic codes count as their successor: a statement as an EHC plan, School Action (Plus) as SEN
    -- support (seed sen_provisions)
    coalesce(sen.counted_as, source.sen_provision, 'N') as sen_provision,
    source.sen_primary_need
from source
left join {{ ref('first_languages') }} as lang on source.first_language = lang.language_code
left join {{ ref('nc_years') }} as ncy on source.nc_year = ncy.nc_year
left join {{ ref('enrolment_statuses') }} as enrol on source.enrol_status = enrol.enrol_status
left join {{ ref('sen_provisions') }} as sen on source.sen_provision = sen.sen_provision
