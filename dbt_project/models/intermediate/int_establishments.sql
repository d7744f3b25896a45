-- One row per LAESTAB (the unit uploads name): its current name, phase, type and learning community.
-- An academy converter keeps its LAESTAB, so the latest-opened URN describes it and the
-- predecessor URN is kept for the link.
with ranked as (
    select
        *,
        row_number() over (partition by laestab order by open_date desc nulls last, urn desc) as recency
    from {{ ref('stg_reference__schools') }}
)

select
    ranked.laestab,
    ranked.urn,
    ranked.predecessor_urn,
    ranked.school_name,
    ranked.phase,
    ranked.establishment_type,
    ranked.learning_community_code,
    lc.learning_community_name,
    lc.collaborative
from ranked
left join {{ ref('stg_reference__learning_communities') }} as lc
    on ranked.learning_community_code = lc.learning_community_code
where ranked.recency = 1
