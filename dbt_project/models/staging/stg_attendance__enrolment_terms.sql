-- One row per pupil enrolment per term: sessions possible and missed.
select
    upload_id,
    row_number as source_row_number,
    academic_year,
    term,
    laestab,
    pupil_key,
    age_months_at_31_august,
    possible_sessions,
    authorised_absence_sessions,
    unauthorised_absence_sessions,
    authorised_absence_sessions + unauthorised_absence_sessions as absence_sessions
from {{ source('raw', 'attendance') }}
