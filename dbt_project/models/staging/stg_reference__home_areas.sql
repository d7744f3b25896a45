-- Which learning community each postcode sector is in (docs/methodology.md#funded-early-education).
select
    postcode_sector,
    learning_community_code
from {{ optional_source('home_areas', 'cast(null as ' ~ dbt.type_string() ~ ') as postcode_sector, cast(null as '
                        ~ dbt.type_string() ~ ') as learning_community_code') }}
