-- One row per pupil per stage per subject, the result as recorded (score, grade, TA or result code)
-- plus its numeric reading where it has one.
select
    upload_id,
    row_number as source_row_number,
    academic_year,
    stage,
    laestab,
    pupil_key,
    age_months_at_31_august,
    nc_year,
    subject,
    result,
    {{ safe_integer('result') }} as result_number,
    subject_name,
    ebacc_pillar
from {{ source('raw', 'attainment') }}
