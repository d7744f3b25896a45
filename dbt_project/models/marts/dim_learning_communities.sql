-- One row per learning community, with its authority, its collaborative and its schools today.
-- A learning community sits in one authority (that of its schools).
select
    lc.learning_community_code,
    min({{ authority_code('est.laestab') }}) as old_la_code,
    lc.learning_community_name,
    lc.collaborative,
    count(est.laestab) as schools
from {{ ref('stg_reference__learning_communities') }} as lc
left join {{ ref('int_establishments') }} as est on lc.learning_community_code = est.learning_community_code
group by lc.learning_community_code, lc.learning_community_name, lc.collaborative
