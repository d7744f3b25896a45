-- Pupil premium eligibility per pupil per year.
select
    upload_id,
    row_number as source_row_number,
    academic_year,
    laestab,
    pupil_key,
    coalesce(ever6_fsm, false) as is_ever6_fsm,
    coalesce(looked_after, false) as is_looked_after,
    coalesce(previously_looked_after, false) as is_previously_looked_after,
    coalesce(service_child, false) as is_service_child
from {{ source('raw', 'pupil_premium') }}
