-- Resident children by postcode sector, mid-year and single year of age, from ONS mid-year population
-- estimates as the authority supplies them (docs/methodology.md#funded-early-education).
select
    postcode_sector,
    mid_year,
    age_at_mid_year,
    population
from {{ optional_source('population_estimates', 'cast(null as ' ~ dbt.type_string() ~ ') as postcode_sector, cast(null as '
                        ~ dbt.type_int() ~ ') as mid_year, cast(null as ' ~ dbt.type_int() ~ ') as age_at_mid_year, '
                        ~ 'cast(null as ' ~ type_double() ~ ') as population') }}
