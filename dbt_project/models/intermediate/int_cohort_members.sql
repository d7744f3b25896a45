-- Who is in each published cohort and population, one row per pupil (per enrolment, for
-- attendance), year and cohort, at the school it is counted at (docs/methodology.md#cohorts-and-populations).
-- The cohorts are those the measures count: census (pupils on roll at the January census), eyfs,
-- phonics_y1, phonics_y2, ks1, ks2, ks4 and attendance (enrolments of compulsory school age).
-- uses_disadvantage marks the members whose disadvantage a published figure reads (on the census,
-- Reception to Year 11 only). Read by the data-quality counts; never published at pupil level.
select
    pupil_key, academic_year, 'census' as cohort, laestab, learning_community_code,
    coalesce(nc_year_number between 0 and 11, false) as uses_disadvantage
from {{ ref('int_pupil_years') }}
union all
select pupil_key, academic_year, 'eyfs', laestab, learning_community_code, true
from {{ ref('int_eyfs_pupils') }}
union all
select pupil_key, academic_year, 'phonics_y1', laestab, learning_community_code, true
from {{ ref('int_phonics_pupils') }}
where nc_year = '1' and has_valid_result
union all
select pupil_key, academic_year, 'phonics_y2', laestab, learning_community_code, true
from {{ ref('int_phonics_year2_pupils') }}
union all
select pupil_key, academic_year, 'ks1', laestab, learning_community_code, true
from {{ ref('int_ks1_pupils') }}
union all
select pupil_key, academic_year, 'ks2', laestab, learning_community_code, true
from {{ ref('int_ks2_pupils') }}
union all
select pupil_key, academic_year, 'ks4', laestab, learning_community_code, true
from {{ ref('int_ks4_pupils') }}
union all
select pupil_key, academic_year, 'attendance', laestab, learning_community_code, true
from {{ ref('int_attendance_enrolments') }}
where is_compulsory_school_age
