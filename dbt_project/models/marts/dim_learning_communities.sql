-- One row per learning community, with its collaborative and its schools today.
select
    lc.learning_community_code,
    lc.learning_community_name,
    lc.collaborative,
    count(est.laestab) as schools
from {{ ref('stg_reference__learning_communities') }} as lc
left join {{ ref('int_establishments') }} as est on est.learning_community_code = lc.learning_community_code
group by lc.learning_community_code, lc.learning_community_name, lc.collaborative
