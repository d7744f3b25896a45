-- Take-up of the universal funded entitlement by three- and four-year-olds
-- (docs/methodology.md#three_four_year_old_take_up). DfE's measure is children registered ÷ the ONS
-- resident population × 100, and the population is not pupils, so this model has two kinds of row:
--   * one row per registered child per academic year (numerator 1, population 0): aged 3 or 4 on the
--     31 December before the January census, and funded in that January's early years census (PVI
--     providers) or on a school's roll in the January school census (school nursery and Reception
--     places); a child in both counts once (keyed hash of the UPN);
--   * one row per learning community per academic year with no pupil (numerator 0, population = the
--     ONS mid-year estimate of residents aged 3 and 4 of the calendar year of that 31 December, summed
--     over the community's postcode sectors); sectors the authority has not placed: a row with no
--     community, in the authority's figure only.
-- Community: the child's home postcode sector (that January's early years census, else their latest
-- early years record or list); a child known only to the school census, which holds no postcode, counts
-- in the community of their school. Years: only those with an early years census, a spring school
-- census and population estimates (without all three either the numerator or the denominator is partial).
-- The rows add up to the right figures only for the community and authority totals: the population has
-- no characteristics, so the mart publishes this measure at Total only.
with early_years_years as (
    select distinct academic_year from {{ ref('stg_early_years__funded_children') }}
),

school_years as (
    select distinct academic_year from {{ ref('stg_census__pupil_terms') }}
    where term = 'spring'
),

population_years as (
    select distinct mid_year as academic_year
    from {{ ref('stg_reference__population_estimates') }}
    where age_at_mid_year in (3, 4)
),

measured_years as (
    select e.academic_year
    from early_years_years as e
    inner join school_years as s on e.academic_year = s.academic_year
    inner join population_years as p on e.academic_year = p.academic_year
),

at_setting as (
    select pupil_key, academic_year, postcode_sector
    from {{ ref('stg_early_years__funded_children') }}
    where funded_hours > 0 and age_at_31_december in (3, 4)
),

at_school as (
    -- age on 31 December from the age in months on 31 August: a birthday from September to December
    -- (8 or more months past the last one on 31 August) adds a year by 31 December
    select
        pupil_key,
        academic_year,
        min(laestab) as laestab
    from {{ ref('stg_census__pupil_terms') }}
    where term = 'spring' and floor((age_months_at_31_august + 4) / 12) in (3, 4)
    group by pupil_key, academic_year
),

registered as (
    select pupil_key, academic_year from at_setting
    union
    select pupil_key, academic_year from at_school
),

-- every home postcode sector Pathways holds for a child, with its academic year
homes as (
    select pupil_key, academic_year, postcode_sector from {{ ref('stg_early_years__funded_children') }}
    where postcode_sector is not null
    union all
    select pupil_key, academic_year, postcode_sector from {{ ref('stg_early_years__eligible_two_year_olds') }}
    where postcode_sector is not null
),

home_now as (
    select
        registered.pupil_key,
        registered.academic_year,
        homes.postcode_sector,
        row_number() over (
            partition by registered.pupil_key, registered.academic_year
            -- this year's first, then the latest earlier year, then the earliest later one
            order by
                case when homes.academic_year <= registered.academic_year then 0 else 1 end,
                abs(registered.academic_year - homes.academic_year), homes.postcode_sector
        ) as recency
    from registered
    inner join homes on registered.pupil_key = homes.pupil_key
),

children as (
    select
        registered.pupil_key,
        registered.academic_year,
        home_now.postcode_sector,
        coalesce(areas.learning_community_code, case when home_now.postcode_sector is null then schools.learning_community_code end)
            as learning_community_code
    from registered
    inner join measured_years on registered.academic_year = measured_years.academic_year
    left join home_now
        on registered.pupil_key = home_now.pupil_key and registered.academic_year = home_now.academic_year
            and home_now.recency = 1
    left join {{ ref('stg_reference__home_areas') }} as areas on home_now.postcode_sector = areas.postcode_sector
    left join at_school on registered.pupil_key = at_school.pupil_key and registered.academic_year = at_school.academic_year
    left join {{ ref('int_establishments') }} as schools on at_school.laestab = schools.laestab
),

residents as (
    select
        estimates.mid_year as academic_year,
        areas.learning_community_code,
        sum(estimates.population) as population
    from {{ ref('stg_reference__population_estimates') }} as estimates
    inner join measured_years on estimates.mid_year = measured_years.academic_year
    left join {{ ref('stg_reference__home_areas') }} as areas on estimates.postcode_sector = areas.postcode_sector
    where estimates.age_at_mid_year in (3, 4)
    group by estimates.mid_year, areas.learning_community_code
)

select
    pupil_key,
    academic_year,
    cast({{ var('pathways:old_la_code') }} as {{ dbt.type_int() }}) * 10000 as laestab,
    learning_community_code,
    true as is_registered,
    cast(0 as {{ type_double() }}) as population
from children
union all
select
    cast(null as {{ dbt.type_string() }}) as pupil_key,
    academic_year,
    cast({{ var('pathways:old_la_code') }} as {{ dbt.type_int() }}) * 10000 as laestab,
    learning_community_code,
    false as is_registered,
    cast(population as {{ type_double() }}) as population
from residents
