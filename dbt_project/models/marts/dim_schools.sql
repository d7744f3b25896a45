-- One row per URN with its effective dates. An academy converter keeps its LAESTAB and records
-- its predecessor URN, so results filed under the LAESTAB follow the school across conversion.
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
    s.predecessor_urn
from {{ ref('stg_reference__schools') }} as s
left join {{ ref('stg_reference__learning_communities') }} as lc
    on s.learning_community_code = lc.learning_community_code
