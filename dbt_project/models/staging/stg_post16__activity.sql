-- One row per young person per month-end snapshot of the authority's post-16 tracking, with what the
-- NCCIS activity code counts as (seed nccis_activity_codes; docs/methodology.md#post-16-participation-and-neet).
-- A snapshot sent twice (the same young person and month in two uploads): the later load is used.
with source as (
    select * from {{ source('raw', 'post16_activity') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by pupil_key, snapshot_date order by loaded_at desc, row_number desc
        ) as recency
    from source
)

select
    ranked.upload_id,
    ranked.row_number as source_row_number,
    ranked.academic_year,
    ranked.snapshot_date,
    extract(month from ranked.snapshot_date) as snapshot_month,
    ranked.pupil_key,
    ranked.age_months_at_31_august,
    ranked.activity_code,
    codes.counted_as,
    ranked.activity_start_date,
    ranked.send_status,
    ranked.y11_laestab
from ranked
left join {{ ref('nccis_activity_codes') }} as codes on ranked.activity_code = codes.activity_code
where ranked.recency = 1
