-- The long outcomes table: one row per pupil per year per measure, with the pupil's school and
-- learning community for that measure. Percentage measures carry a 0/1 numerator; average
-- measures carry the pupil's value. Marts aggregate this once, for every measure and subgroup.
{% set ks2_flags = [
    ('ks2_rwm_expected', 'is_rwm_expected'),
    ('ks2_rwm_higher', 'is_rwm_higher'),
    ('ks2_reading_expected', 'is_reading_expected'),
    ('ks2_writing_expected', 'is_writing_expected'),
    ('ks2_maths_expected', 'is_maths_expected'),
    ('ks2_gps_expected', 'is_gps_expected'),
] %}
{% set ks2_averages = [
    ('ks2_reading_average_scaled_score', 'reading_scaled_score'),
    ('ks2_maths_average_scaled_score', 'maths_scaled_score'),
] %}

select
    pupil_key, academic_year, laestab, learning_community_code,
    'census' as stage, 'pupils_on_roll' as measure, 'count' as measure_type,
    1.0 as value
from {{ ref('int_pupil_years') }}
union all
{% for measure, flag in ks2_flags %}
select
    pupil_key, academic_year, laestab, learning_community_code,
    'ks2' as stage, '{{ measure }}' as measure, 'percentage' as measure_type,
    case when {{ flag }} then 1.0 else 0.0 end as value
from {{ ref('int_ks2_pupils') }}
union all
{% endfor %}
{% for measure, col in ks2_averages %}
select
    pupil_key, academic_year, laestab, learning_community_code,
    'ks2' as stage, '{{ measure }}' as measure, 'average' as measure_type,
    {{ dbt.safe_cast(col, api.Column.translate_type('float')) }} as value
from {{ ref('int_ks2_pupils') }}
where {{ col }} is not null
{% if not loop.last %}union all{% endif %}
{% endfor %}
