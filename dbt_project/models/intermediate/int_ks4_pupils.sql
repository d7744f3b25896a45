-- One row per pupil per year in the KS4 cohort (docs/methodology.md#cohort-ks4).
-- The cohort (DfE KS4 performance methodology): pupils in Year 11 on the spring (January) census
-- of a year with KS4 results, main enrolment, counted at that census school (a dual-registered
-- pupil at the main school); their results are matched by pupil, whichever school entered them.
-- A pupil who left before January or joined after it is not in the cohort, even with results; a
-- cohort pupil with no counted result has Attainment 8 of 0 (both are counted in
-- int_cohort_reconciliation). Characteristics come from the same January census.
-- Business rules (DfE secondary accountability, simplified to GCSE 9-1 points = grade, U = 0;
-- X = entered, no result: not taken):
--   * English slot: the better of English language and literature, double weighted only when
--     both were taken; the other English then competes for an open slot.
--   * Maths: double weighted.
--   * EBacc slots: best three of the sciences (computer science counts as a science),
--     humanities and languages entries.
--   * Open slots: best three of everything left (including unused EBacc entries and the other English).
--   * Basics: grade 4+ (and 5+) in English (language or literature) and maths.
--   * EBacc APS: (English + maths + best two sciences, computer science included + best humanity
--     + best language) / 6.
with entries as (
    select
        pupil_key,
        academic_year,
        laestab,
        subject,
        -- computer science is an EBacc science (DfE), whatever pillar the file gives it
        case when subject = 'COMP' then 'Science' else coalesce(ebacc_pillar, '') end as ebacc_pillar,
        case when result = 'U' then 0 else result_number end as points
    from {{ ref('stg_attainment__results') }}
    where stage = 'ks4' and (result = 'U' or result_number between 1 and 9)
),

english as (
    select
        pupil_key,
        academic_year,
        max(case when subject = 'ENLA' then points end) as language_points,
        max(case when subject = 'ENLI' then points end) as literature_points
    from entries
    group by pupil_key, academic_year
),

english_slot as (
    select
        pupil_key,
        academic_year,
        greatest(coalesce(language_points, 0), coalesce(literature_points, 0)) as best_english,
        case when language_points is not null and literature_points is not null then 2 else 1 end as english_weight,
        case when language_points is not null and literature_points is not null
                then least(language_points, literature_points)
        end as other_english
    from english
),

non_core as (
    select
        pupil_key, academic_year, points,
        ebacc_pillar in ('Science', 'Humanities', 'Languages') as counts_for_ebacc,
        row_number() over (
            partition by
                pupil_key, academic_year,
                ebacc_pillar in ('Science', 'Humanities', 'Languages')
            order by points desc, subject asc
        ) as rank_in_pool
    from entries
    where subject not in ('ENLA', 'ENLI', 'MATH')
),

ebacc_slots as (
    select pupil_key, academic_year, sum(points) as ebacc_points
    from non_core
    where counts_for_ebacc and rank_in_pool <= 3
    group by pupil_key, academic_year
),

open_pool as (
    select pupil_key, academic_year, points from non_core
    where not (counts_for_ebacc and rank_in_pool <= 3)
    union all
    select pupil_key, academic_year, other_english from english_slot
    where other_english is not null
),

open_slots as (
    select pupil_key, academic_year, sum(points) as open_points
    from (
        select *, row_number() over (partition by pupil_key, academic_year order by points desc) as rank_in_open
        from open_pool
    ) as ranked
    where rank_in_open <= 3
    group by pupil_key, academic_year
),

pillars as (
    select
        pupil_key,
        academic_year,
        max(case when ebacc_pillar = 'Humanities' then points end) as best_humanity,
        max(case when ebacc_pillar = 'Languages' then points end) as best_language,
        sum(case when ebacc_pillar = 'Science' and science_rank <= 2 then points else 0 end) as best_two_science
    from (
        select
            *, row_number() over (
                partition by pupil_key, academic_year, ebacc_pillar order by points desc, subject asc
            ) as science_rank
        from entries
    ) as e
    group by pupil_key, academic_year
),

maths as (
    select pupil_key, academic_year, max(points) as maths_points
    from entries
    where subject = 'MATH'
    group by pupil_key, academic_year
),

cohort as (
    -- Year 11 on the January census, in the years that have KS4 results
    select pupil_key, academic_year, laestab, learning_community_code
    from {{ ref('int_pupil_years') }}
    where nc_year_number = 11
        and academic_year in (
            select results.academic_year from {{ ref('stg_attainment__results') }} as results
            where results.stage = 'ks4'
        )
)

select
    c.pupil_key,
    c.academic_year,
    c.laestab,
    c.learning_community_code,
    coalesce(e.best_english, 0) as english_points,
    coalesce(m.maths_points, 0) as maths_points,
    coalesce(e.best_english * e.english_weight, 0) + 2 * coalesce(m.maths_points, 0)
    + coalesce(eb.ebacc_points, 0) + coalesce(op.open_points, 0) as attainment_8,
    coalesce(e.best_english >= 4 and m.maths_points >= 4, false) as has_basics_grade_4,
    coalesce(e.best_english >= 5 and m.maths_points >= 5, false) as has_basics_grade_5,
    (
        coalesce(e.best_english, 0) + coalesce(m.maths_points, 0) + coalesce(p.best_two_science, 0)
        + coalesce(p.best_humanity, 0) + coalesce(p.best_language, 0)
    ) / cast(6 as {{ type_double() }}) as ebacc_average_point_score
from cohort as c
left join english_slot as e on c.pupil_key = e.pupil_key and c.academic_year = e.academic_year
left join maths as m on c.pupil_key = m.pupil_key and c.academic_year = m.academic_year
left join ebacc_slots as eb on c.pupil_key = eb.pupil_key and c.academic_year = eb.academic_year
left join open_slots as op on c.pupil_key = op.pupil_key and c.academic_year = op.academic_year
left join pillars as p on c.pupil_key = p.pupil_key and c.academic_year = p.academic_year
