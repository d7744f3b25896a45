-- One row per URN; an academy converter and its predecessor share a LAESTAB.
select
    urn,
    laestab,
    school_name,
    phase,
    establishment_type,
    learning_community_code,
    collaborative,
    open_date,
    close_date,
    predecessor_urn
from {{ source('raw', 'schools') }}
