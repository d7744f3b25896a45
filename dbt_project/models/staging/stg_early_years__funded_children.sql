-- One row per child per January early years census (docs/methodology.md#funded-early-education).
-- A child funded at more than one PVI setting is counted once, at the setting where they spend most
-- hours (DfE's rule); a census sent twice: the later load is used.
with source as (
    select * from {{ source('raw', 'early_years_census') }}
),

stamped as (
    select
        *,
        max(loaded_at) over (partition by academic_year) as latest_load
    from source
),

ranked as (
    select
        *,
        row_number() over (
            partition by pupil_key, academic_year
            order by coalesce(hours_at_setting, funded_hours) desc, funded_hours desc, setting_urn asc
        ) as rank_by_hours
    from stamped
    where loaded_at = latest_load
)

select
    upload_id,
    row_number as source_row_number,
    academic_year,
    census_date,
    pupil_key,
    setting_urn,
    age_at_31_december,
    postcode_sector,
    funded_hours,
    extended_hours,
    two_year_old_basis,
    eypp,
    sen_provision
from ranked
where rank_by_hours = 1
