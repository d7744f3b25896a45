-- One row per URN with its effective dates. An academy converter keeps its LAESTAB and records
-- its predecessor URN, so results filed under the LAESTAB follow the school across conversion.
-- Each URN shows its latest Ofsted inspection (docs/methodology.md#ofsted-inspections): framework
-- (EIF or report card), number, dates, outcome in words, overall effectiveness (EIF before
-- September 2024 only: report cards have no overall grade) and any category of concern.
with latest_inspection as (
    select
        *,
        row_number() over (partition by urn order by publication_date desc) as recency
    from {{ ref('int_school_inspections') }}
)

select
    s.urn,
    s.laestab,
    s.school_name,
    s.phase,
    s.establishment_type,
    s.learning_community_code,
    lc.learning_community_name,
    lc.collaborative,
    s.open_date as valid_from,
    s.close_date as valid_to,
    s.close_date is null as is_open,
    s.predecessor_urn,
    cast(i.framework as {{ dbt.type_string() }}) as ofsted_framework,
    cast(i.inspection_number as {{ dbt.type_string() }}) as ofsted_inspection_number,
    i.inspection_start_date as ofsted_inspection_start_date,
    i.publication_date as ofsted_publication_date,
    cast(i.overall_effectiveness as {{ dbt.type_string() }}) as ofsted_overall_effectiveness,
    cast(i.category_of_concern as {{ dbt.type_string() }}) as ofsted_category_of_concern,
    cast(i.outcome as {{ dbt.type_string() }}) as ofsted_outcome
from {{ ref('stg_reference__schools') }} as s
left join latest_inspection as i on s.urn = i.urn and i.recency = 1
left join {{ ref('stg_reference__learning_communities') }} as lc
    on s.learning_community_code = lc.learning_community_code
