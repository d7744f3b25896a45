-- One row per young person of academic age 16 or 17 per academic year, for the post-16 measures
-- (docs/methodology.md#post-16-participation-and-neet). Business rules:
--   * academic age 16-17: 192 to 215 months at 31 August of the academic year;
--   * NEET and not known are the average of the end of December, January and February: each young
--     person contributes the months of those three they were in the cohort (the denominator) and the
--     months they were NEET or not known (numerators), so the rate is the average count over the
--     average cohort; young adult offenders in custody (710) are not in the cohort;
--   * participation in education or training is at the end of March;
--   * in education, employment or training (EET) at the end of March: an activity counted as
--     participating or as neither participating nor NEET nor not known ('other': employment without
--     regulated training, a gap year, re-engagement), i.e. neither NEET nor not known; the positive
--     destination the cohort journey's age-17 stage counts (docs/methodology.md#cohort-stage-age-17);
--   * academic age: whole years of age_months_at_31_august (16 or 17);
--   * the school (and learning community) is where the young person finished Year 11: the last main
--     enrolment in Year 11 on the census, else the Year 11 LAESTAB the tracking file gives; a young
--     person with neither is not attributed (and not counted).
with snapshots as (
    select *
    from {{ ref('stg_post16__activity') }}
    where age_months_at_31_august between 192 and 215
),

per_person as (
    select
        pupil_key,
        academic_year,
        sum(case when snapshot_month in (12, 1, 2) and counted_as != 'custody' then 1 else 0 end) as djf_cohort_months,
        sum(case when snapshot_month in (12, 1, 2) and counted_as = 'neet' then 1 else 0 end) as djf_neet_months,
        sum(case when snapshot_month in (12, 1, 2) and counted_as = 'not_known' then 1 else 0 end)
            as djf_not_known_months,
        max(case when snapshot_month = 3 and counted_as != 'custody' then 1 else 0 end) as in_march_cohort,
        max(case when snapshot_month = 3 and counted_as = 'participating' then 1 else 0 end) as participating_in_march,
        max(case when snapshot_month = 3 and counted_as in ('participating', 'other') then 1 else 0 end)
            as eet_in_march,
        cast(floor(max(age_months_at_31_august) / 12) as {{ dbt.type_int() }}) as academic_age,
        max(y11_laestab) as file_y11_laestab
    from snapshots
    group by pupil_key, academic_year
),

year_11 as (
    select
        pupil_key,
        laestab,
        row_number() over (partition by pupil_key order by census_date desc, laestab asc) as recency
    from {{ ref('stg_census__pupil_terms') }}
    where is_main_enrolment and nc_year_number = 11
),

attributed as (
    select
        per_person.*,
        coalesce(year_11.laestab, per_person.file_y11_laestab) as laestab
    from per_person
    left join year_11 on per_person.pupil_key = year_11.pupil_key and year_11.recency = 1
)

select
    attributed.pupil_key,
    attributed.academic_year,
    attributed.laestab,
    est.learning_community_code,
    attributed.djf_cohort_months,
    attributed.djf_neet_months,
    attributed.djf_not_known_months,
    attributed.in_march_cohort,
    attributed.participating_in_march,
    attributed.eet_in_march,
    attributed.academic_age
from attributed
left join {{ ref('int_establishments') }} as est on attributed.laestab = est.laestab
where attributed.laestab is not null
