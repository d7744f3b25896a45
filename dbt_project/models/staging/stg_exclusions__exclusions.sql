-- One row per suspension or permanent exclusion, counted once (docs/methodology.md#exclusions).
-- Business rules:
--   * each census return carries earlier terms again (one and two terms in arrears): the same
--     exclusion (pupil, school, category, start date) in two returns is kept from the later census
--     (then the later load), so it counts once;
--   * what a category counts as comes from the seed exclusion_categories (FIXD, the code before
--     2021/22, is a suspension; LNCH, lunchtime, is not counted).
with source as (
    select * from {{ source('raw', 'exclusions') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by pupil_key, laestab, exclusion_category, exclusion_start_date
            order by census_date desc nulls last, loaded_at desc, row_number desc
        ) as recency
    from source
)

select
    ranked.upload_id,
    ranked.row_number as source_row_number,
    ranked.census_date,
    ranked.academic_year,
    ranked.term,
    ranked.laestab,
    ranked.pupil_key,
    ranked.age_months_at_31_august,
    ranked.exclusion_category,
    cat.counted_as,
    ranked.exclusion_reason,
    ranked.exclusion_reason_2,
    ranked.exclusion_reason_3,
    ranked.exclusion_start_date,
    ranked.exclusion_sessions
from ranked
left join {{ ref('exclusion_categories') }} as cat on ranked.exclusion_category = cat.exclusion_category
where ranked.recency = 1
