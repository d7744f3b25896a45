-- One row per eligible two-year-old per academic year, for take-up of the funded two-year-old
-- entitlement (docs/methodology.md#funded-early-education). Business rules:
--   * eligible: on a list of eligible two-year-olds the authority received in the academic year, on or
--     before the January census, and aged 2 on 31 December before it (the census's age rule);
--   * took up: the same child (keyed hash of the UPN) is funded in that January's early years census,
--     or is on a school's roll in the January school census (school-based places, which the school
--     census returns);
--   * learning community: the community of the child's home postcode sector (home_areas) on the latest
--     list of the year; a sector the authority has not placed counts in the authority's figure only;
--   * there is no school: the row is attributed to the authority (LAESTAB <la>0000), so the
--     authority figure is the sum of the communities' and no school's.
with census_days as (
    select
        academic_year,
        max(census_date) as census_date
    from {{ ref('stg_early_years__funded_children') }}
    group by academic_year
),

listed as (
    select
        lists.pupil_key,
        lists.academic_year,
        lists.postcode_sector,
        row_number() over (
            partition by lists.pupil_key, lists.academic_year order by lists.list_date desc
        ) as recency
    from {{ ref('stg_early_years__eligible_two_year_olds') }} as lists
    left join census_days on lists.academic_year = census_days.academic_year
    where
        lists.age_at_31_december = 2
        and (census_days.census_date is null or lists.list_date <= census_days.census_date)
),

funded as (
    select distinct
        pupil_key,
        academic_year
    from {{ ref('stg_early_years__funded_children') }}
    where funded_hours > 0
),

at_school as (
    select distinct
        pupil_key,
        academic_year
    from {{ ref('stg_census__pupil_terms') }}
    where term = 'spring'
)

select
    listed.pupil_key,
    listed.academic_year,
    cast({{ var('pathways:old_la_code') }} as {{ dbt.type_int() }}) * 10000 as laestab,
    areas.learning_community_code,
    listed.postcode_sector,
    coalesce(funded.pupil_key is not null or at_school.pupil_key is not null, false) as took_up_place
from listed
left join funded on listed.pupil_key = funded.pupil_key and listed.academic_year = funded.academic_year
left join at_school on listed.pupil_key = at_school.pupil_key and listed.academic_year = at_school.academic_year
left join {{ ref('stg_reference__home_areas') }} as areas on listed.postcode_sector = areas.postcode_sector
where listed.recency = 1
