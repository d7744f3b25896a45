-- One row per Ofsted inspection of one of the authority's schools (docs/methodology.md#ofsted-inspections):
-- which LAESTAB it counts for (the URN's, from the schools reference; the file's own LAESTAB for a URN
-- the reference does not hold), its framework, number, dates, the academic year it was published in
-- (August to July, as every Pathways year), the outcome in words, the category of concern, and what it
-- signals for school categorisation: red when any judgement's grade is red in the ofsted_grades seed
-- (Inadequate, Urgent improvement, safeguarding not effective or not met, a category of concern), amber
-- when any is amber (Requires improvement, Needs attention), with the judgements that gave the signal.
-- Report-card grades stay as Ofsted writes them: never turned into 1-4, and there is no overall grade.
with judgements as (
    select
        j.*,
        case j.judgement
            when 'overall_effectiveness' then 1
            when 'category_of_concern' then 2
            when 'safeguarding_effective' then 3
            when 'safeguarding_standards' then 3
            when 'quality_of_education' then 4
            when 'inclusion' then 4
            when 'curriculum_and_teaching' then 5
            when 'behaviour_and_attitudes' then 6
            when 'achievement' then 6
            when 'attendance_and_behaviour' then 7
            when 'personal_development' then 8
            when 'personal_development_and_wellbeing' then 8
            when 'leadership_and_management' then 9
            when 'leadership_and_governance' then 9
            else 10
        end as judgement_order,
        replace(j.judgement, '_', ' ') || ' ' || j.grade_label as judgement_text
    from {{ ref('stg_ofsted__inspections') }} as j
    -- "not applicable" (9) is no judgement
    where j.grade_label != 'Not applicable'
),

inspections as (
    select
        urn,
        publication_date,
        max(laestab) as file_laestab,
        max(framework) as framework,
        max(inspection_number) as inspection_number,
        max(inspection_type) as inspection_type,
        max(inspection_start_date) as inspection_start_date,
        max(case when judgement = 'category_of_concern' then grade_label end) as category_of_concern,
        max(case when judgement = 'overall_effectiveness' and grade_label != 'Not judged' then grade_label end)
            as overall_effectiveness,
        {{ ordered_listagg('judgement_text', "'; '", 'judgement_order, judgement') }} as outcome,
        max(case when category_signal = 'red' then 2 when category_signal = 'amber' then 1 else 0 end) as signal_rank
    from judgements
    group by urn, publication_date
),

signalled as (
    select
        j.urn,
        j.publication_date,
        {{ ordered_listagg('j.judgement_text', "'; '", 'j.judgement_order, j.judgement') }} as signal_judgements
    from judgements as j
    inner join inspections as i on j.urn = i.urn and j.publication_date = i.publication_date
    where (i.signal_rank = 2 and j.category_signal = 'red') or (i.signal_rank = 1 and j.category_signal = 'amber')
    group by j.urn, j.publication_date
)

select
    i.urn,
    coalesce(s.laestab, i.file_laestab) as laestab,
    i.framework,
    i.inspection_number,
    i.inspection_type,
    i.inspection_start_date,
    i.publication_date,
    case
        when extract(month from i.publication_date) >= 8 then extract(year from i.publication_date)
        else extract(year from i.publication_date) - 1
    end as published_academic_year,
    i.overall_effectiveness,
    i.category_of_concern,
    i.outcome,
    case i.signal_rank when 2 then 'red' when 1 then 'amber' end as signal_level,
    sig.signal_judgements
from inspections as i
left join {{ ref('stg_reference__schools') }} as s on i.urn = s.urn
left join signalled as sig on i.urn = sig.urn and i.publication_date = sig.publication_date
