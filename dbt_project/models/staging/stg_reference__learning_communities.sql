select
    learning_community_code,
    learning_community_name,
    collaborative
from {{ source('raw', 'learning_communities') }}
