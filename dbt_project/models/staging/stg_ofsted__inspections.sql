-- One row per judgement of each Ofsted inspection of a URN (docs/methodology.md#ofsted-inspections),
-- with the grade as Ofsted wrote it, its label and what it signals for school categorisation (the
-- ofsted_grades seed: one list of grades, read by validation too). A later file's version of an
-- inspection has already replaced the earlier one in raw (same URN and publication date).
with inspections as (
    select *
    from {{ optional_source('ofsted_inspections',
        'cast(null as integer) as urn, cast(null as integer) as laestab, cast(null as ' ~ dbt.type_string() ~ ') as inspection_number, '
        ~ 'cast(null as ' ~ dbt.type_string() ~ ') as inspection_type, cast(null as date) as inspection_start_date, '
        ~ 'cast(null as date) as publication_date, cast(null as ' ~ dbt.type_string() ~ ') as framework, '
        ~ 'cast(null as ' ~ dbt.type_string() ~ ') as judgement, cast(null as ' ~ dbt.type_string() ~ ') as grade, cast(null as date) as grade_date') }}
),

grades as (
    select framework, judgement, lower(grade_code) as grade_code, grade_label, category_signal
    from {{ ref('ofsted_grades') }}
),

-- a judgement's own grades (safeguarding, category of concern) before its framework's '*' grades
matched as (
    select
        i.*,
        g.grade_label,
        g.category_signal,
        row_number() over (
            partition by i.urn, i.publication_date, i.judgement, i.grade
            order by case when g.judgement = '*' then 1 else 0 end
        ) as preference
    from inspections as i
    left join grades as g
        on i.framework = g.framework and lower(i.grade) = g.grade_code and g.judgement in (i.judgement, '*')
)

select
    urn,
    laestab,
    inspection_number,
    inspection_type,
    inspection_start_date,
    publication_date,
    framework,
    judgement,
    grade,
    coalesce(grade_label, grade) as grade_label,
    category_signal,
    coalesce(grade_date, publication_date) as grade_date
from matched
where preference = 1
