-- One row per pupil at the end of Reception (EYFS profile) who was on a list of eligible two-year-olds,
-- with whether they took up a funded two-year-old place, so the good level of development of the two
-- groups can be compared (docs/methodology.md#funded-early-education). Matched by the pupil's keyed hash
-- identity (the UPN on the list and on the EYFSP return); attributed, as every EYFS measure, to the
-- school and community of the EYFSP return.
with history as (
    select
        pupil_key,
        max(case when took_up_place then 1 else 0 end) = 1 as took_up_at_two
    from {{ ref('int_early_education_two_year_olds') }}
    group by pupil_key
)

select
    eyfs.pupil_key,
    eyfs.academic_year,
    eyfs.laestab,
    eyfs.learning_community_code,
    eyfs.has_good_level_of_development,
    history.took_up_at_two
from {{ ref('int_eyfs_pupils') }} as eyfs
inner join history on eyfs.pupil_key = history.pupil_key
