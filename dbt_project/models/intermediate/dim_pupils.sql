-- One row per pupil: the pseudonymised key only (no names, no dates of birth), the cohort
-- (year of Reception entry) and the years seen. Pupil level: never published.
select
    pupil_key,
    min(reception_year) as reception_year,
    min(academic_year) as first_seen_year,
    max(academic_year) as last_seen_year,
    count(*) as years_on_roll
from {{ ref('int_pupil_years') }}
group by pupil_key
