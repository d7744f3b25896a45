-- One row per child per list of eligible two-year-olds (docs/methodology.md#funded-early-education);
-- a list sent twice (the same child and list date in two uploads): the later load is used.
with ranked as (
    select
        *,
        row_number() over (partition by pupil_key, list_date order by loaded_at desc, row_number desc) as recency
    from {{ source('raw', 'eligible_two_year_olds') }}
)

select
    upload_id,
    row_number as source_row_number,
    academic_year,
    list_date,
    pupil_key,
    age_at_31_december,
    postcode_sector,
    eligibility_basis
from ranked
where recency = 1
