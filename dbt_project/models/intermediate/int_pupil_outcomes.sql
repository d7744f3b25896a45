-- The long outcomes table: one row per pupil (per enrolment, for attendance), year and measure,
-- with the school and learning community the measure is attributed to. Each row carries its
-- own numerator and denominator, so every mart is one sum over this table:
--   percentage: 1/0 over 1 (pupils meeting the measure over eligible pupils)
--   average:    the pupil's value over 1 (sum of values over pupils)
--   rate:       sessions missed over possible sessions (attendance)
--   count:      1 over 1 (pupils)
-- Adding a measure is one line in the list below.
{% set measures = [
    ('census', 'int_pupil_years', 'pupils_on_roll', 'count', '1', '1', 'true'),
    ('census', 'int_pupil_years', 'disadvantaged_pupils', 'percentage', 'is_disadvantaged', '1', 'nc_year_number between 0 and 11'),
    ('census', 'int_pupil_years', 'fsm_eligible_pupils', 'percentage', 'is_fsm_eligible', '1', 'nc_year_number between 0 and 11'),
    ('census', 'int_pupil_years', 'sen_support_pupils', 'percentage', "sen_provision = 'K'", '1', 'true'),
    ('census', 'int_pupil_years', 'ehc_plan_pupils', 'percentage', "sen_provision = 'E'", '1', 'true'),
    ('census', 'int_pupil_years', 'eal_pupils', 'percentage', 'coalesce(is_eal, false)', '1', 'true'),
    ('census', 'int_pupil_years', 'arrived_after_autumn_census', 'percentage', 'arrived_after_autumn_census', '1', 'true'),
    ('census', 'int_pupil_years', 'moved_school_in_year', 'percentage', 'moved_school_this_year', '1', 'true'),
    ('eyfs', 'int_eyfs_pupils', 'eyfs_good_level_of_development', 'percentage', 'has_good_level_of_development', '1', 'true'),
    ('eyfs', 'int_eyfs_pupils', 'eyfs_average_goals_at_expected', 'average', 'goals_at_expected', '1', 'true'),
    ('eyfs', 'int_eyfs_pupils', 'eyfs_communication_language_expected', 'percentage', 'is_communication_language_expected', '1', 'true'),
    ('eyfs', 'int_eyfs_pupils', 'eyfs_literacy_expected', 'percentage', 'is_literacy_expected', '1', 'true'),
    ('phonics', 'int_phonics_pupils', 'phonics_y1_met', 'percentage', 'met_standard', '1', "nc_year = '1'"),
    ('phonics', 'int_phonics_year2_pupils', 'phonics_by_end_of_y2_met', 'percentage', 'met_by_end_of_year_2', '1', 'true'),
    ('ks1', 'int_ks1_pupils', 'ks1_reading_expected', 'percentage', 'is_reading_expected', '1', 'true'),
    ('ks1', 'int_ks1_pupils', 'ks1_writing_expected', 'percentage', 'is_writing_expected', '1', 'true'),
    ('ks1', 'int_ks1_pupils', 'ks1_maths_expected', 'percentage', 'is_maths_expected', '1', 'true'),
    ('ks1', 'int_ks1_pupils', 'ks1_rwm_expected', 'percentage', 'is_rwm_expected', '1', 'true'),
    ('ks2', 'int_ks2_pupils', 'ks2_rwm_expected', 'percentage', 'is_rwm_expected', '1', 'true'),
    ('ks2', 'int_ks2_pupils', 'ks2_rwm_higher', 'percentage', 'is_rwm_higher', '1', 'true'),
    ('ks2', 'int_ks2_pupils', 'ks2_reading_expected', 'percentage', 'is_reading_expected', '1', 'true'),
    ('ks2', 'int_ks2_pupils', 'ks2_writing_expected', 'percentage', 'is_writing_expected', '1', 'true'),
    ('ks2', 'int_ks2_pupils', 'ks2_maths_expected', 'percentage', 'is_maths_expected', '1', 'true'),
    ('ks2', 'int_ks2_pupils', 'ks2_gps_expected', 'percentage', 'is_gps_expected', '1', 'true'),
    ('ks2', 'int_ks2_pupils', 'ks2_reading_average_scaled_score', 'average', 'reading_scaled_score', '1', 'reading_scaled_score is not null'),
    ('ks2', 'int_ks2_pupils', 'ks2_maths_average_scaled_score', 'average', 'maths_scaled_score', '1', 'maths_scaled_score is not null'),
    ('ks4', 'int_ks4_pupils', 'ks4_attainment_8', 'average', 'attainment_8', '1', 'true'),
    ('ks4', 'int_ks4_pupils', 'ks4_basics_grade_4', 'percentage', 'has_basics_grade_4', '1', 'true'),
    ('ks4', 'int_ks4_pupils', 'ks4_basics_grade_5', 'percentage', 'has_basics_grade_5', '1', 'true'),
    ('ks4', 'int_ks4_pupils', 'ks4_ebacc_average_point_score', 'average', 'ebacc_average_point_score', '1', 'true'),
    ('ks4', 'int_ks4_local_progress', 'ks4_local_progress_8', 'average', 'local_progress_8', '1', 'true'),
    ('attendance', 'int_attendance_enrolments', 'overall_absence_rate', 'rate', 'absence_sessions', 'possible_sessions', 'true'),
    ('attendance', 'int_attendance_enrolments', 'authorised_absence_rate', 'rate', 'authorised_absence_sessions', 'possible_sessions', 'true'),
    ('attendance', 'int_attendance_enrolments', 'unauthorised_absence_rate', 'rate', 'unauthorised_absence_sessions', 'possible_sessions', 'true'),
    ('attendance', 'int_attendance_enrolments', 'persistent_absence', 'percentage', 'is_persistently_absent', '1', 'true'),
    ('attendance', 'int_attendance_enrolments', 'severe_absence', 'percentage', 'is_severely_absent', '1', 'true'),
] %}

{% for stage, model, measure, measure_type, numerator, denominator, condition in measures %}
select
    pupil_key,
    academic_year,
    laestab,
    learning_community_code,
    '{{ stage }}' as stage,
    '{{ measure }}' as measure,
    '{{ measure_type }}' as measure_type,
    {% if measure_type == 'percentage' -%}
    case when {{ numerator }} then 1.0 else 0.0 end
    {%- else -%}
    cast({{ numerator }} as {{ dbt.type_float() }})
    {%- endif %} as numerator,
    cast({{ denominator }} as {{ dbt.type_float() }}) as denominator
from {{ ref(model) }}
where {{ condition }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
