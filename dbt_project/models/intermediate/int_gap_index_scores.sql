-- The scores the DfE disadvantage gap index ranks, one row per pupil per year per stage per
-- ranked subject (docs/methodology.md#gap-index-method). KS2: only pupils with both a reading and
-- a maths scaled score are ranked (DfE's KS2 data set); their two scores are ranked separately and
-- the two gaps averaged ('average_of_subjects', default) or their sum ranked ('combined') - the
-- DfE detail is unconfirmed, so it is the gap_index_ks2_method setting. KS4: English (better of
-- language and literature) plus maths GCSE points, every pupil in the KS4 cohort.
with ks2 as (
    select ks2.*, {{ is_disadvantaged() }} as is_disadvantaged
    from {{ ref('int_ks2_pupils') }} as ks2
    {{ join_disadvantage('ks2') }}
    where ks2.reading_scaled_score is not null and ks2.maths_scaled_score is not null
),

ks4 as (
    select ks4.*, {{ is_disadvantaged() }} as is_disadvantaged
    from {{ ref('int_ks4_pupils') }} as ks4
    {{ join_disadvantage('ks4') }}
)

{% if var('pathways:gap_index_ks2_method') == 'combined' %}
    select
        pupil_key, academic_year, laestab, learning_community_code, 'ks2' as stage, 'reading_and_maths' as subject,
        cast(reading_scaled_score + maths_scaled_score as {{ type_double() }}) as score, is_disadvantaged
    from ks2
{% else %}
    select
        pupil_key, academic_year, laestab, learning_community_code, 'ks2' as stage, 'reading' as subject,
        cast(reading_scaled_score as {{ type_double() }}) as score, is_disadvantaged
    from ks2
    union all
    select
        pupil_key, academic_year, laestab, learning_community_code, 'ks2' as stage, 'maths' as subject,
        cast(maths_scaled_score as {{ type_double() }}) as score, is_disadvantaged
    from ks2
{% endif %}
union all
select
    pupil_key, academic_year, laestab, learning_community_code, 'ks4' as stage, 'english_and_maths' as subject,
    cast(english_points + maths_points as {{ type_double() }}) as score, is_disadvantaged
from ks4
