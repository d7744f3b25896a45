-- One row per pupil per stage reached, for following cohorts 0-19. The cohort is the year the
-- pupil entered Reception (academic year minus the stage's year group). Headline per stage:
-- EYFS good level of development; phonics met in Year 1; KS1 reading, writing and maths at
-- expected; KS2 reading, writing and maths at the expected standard; KS4 grade 4+ in English
-- and maths; at academic age 17 (the Year 13 age, year group 13), in education, employment or
-- training at the end of March ("positive progression", docs/methodology.md#cohort-stage-age-17),
-- of the young people tracked then (custody not). Disadvantage, school and learning community are
-- as at that stage; at 17 the school is where the young person finished Year 11.
with stages as (
    select
        pupil_key, academic_year, academic_year - 0 as reception_year, 'eyfs' as stage, 1 as stage_order,
        laestab, learning_community_code, has_good_level_of_development as is_expected
    from {{ ref('int_eyfs_pupils') }}
    union all
    select pupil_key, academic_year, academic_year - 1, 'phonics', 2, laestab, learning_community_code, met_standard
    from {{ ref('int_phonics_pupils') }}
    where nc_year = '1' and has_valid_result
    union all
    select pupil_key, academic_year, academic_year - 2, 'ks1', 3, laestab, learning_community_code, is_rwm_expected
    from {{ ref('int_ks1_pupils') }}
    union all
    select pupil_key, academic_year, academic_year - 6, 'ks2', 4, laestab, learning_community_code, is_rwm_expected
    from {{ ref('int_ks2_pupils') }}
    union all
    select pupil_key, academic_year, academic_year - 11, 'ks4', 5, laestab, learning_community_code, has_basics_grade_4
    from {{ ref('int_ks4_pupils') }}
    union all
    select pupil_key, academic_year, academic_year - 13, 'age17', 8, laestab, learning_community_code, eet_in_march = 1
    from {{ ref('int_post16_pupils') }}
    where academic_age = 17 and in_march_cohort = 1
)

select
    stages.*,
    {{ is_disadvantaged() }} as is_disadvantaged
from stages
{{ join_disadvantage('stages') }}
