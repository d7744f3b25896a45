-- One row per pupil per year at the end of Reception (EYFS profile).
-- Business rules (DfE EYFSP): each of 17 early learning goals is 1 emerging, 2 expected or
-- A unable to assess (counts as not expected). Good level of development (GLD) = expected in
-- all of E01-E12 (communication and language, PSED, physical, literacy, mathematics).
-- Communication and language = E01-E02; literacy = E08-E10: the seeds of early language.
with goals as (
    select
        pupil_key,
        academic_year,
        max(laestab) as laestab,
        sum(case when result = '2' then 1 else 0 end) as goals_at_expected,
        sum(case when result = '2' and subject in ('E01', 'E02', 'E03', 'E04', 'E05', 'E06', 'E07', 'E08', 'E09', 'E10', 'E11', 'E12')
                then 1
            else 0
        end) as prime_and_specific_goals_at_expected,
        sum(case when result = '2' and subject in ('E01', 'E02') then 1 else 0 end) as communication_goals_at_expected,
        sum(case when result = '2' and subject in ('E08', 'E09', 'E10') then 1 else 0 end) as literacy_goals_at_expected
    from {{ ref('stg_attainment__results') }}
    where stage = 'eyfsp'
    group by pupil_key, academic_year
)

select
    goals.*,
    est.learning_community_code,
    goals.prime_and_specific_goals_at_expected = 12 as has_good_level_of_development,
    goals.communication_goals_at_expected = 2 as is_communication_language_expected,
    goals.literacy_goals_at_expected = 3 as is_literacy_expected
from goals
left join {{ ref('int_establishments') }} as est on goals.laestab = est.laestab
