-- Grain: academic year x geography (each learning community, and the authority) x cohort x check.
-- How many pupils each cohort rule left out, counted on a weaker footing, or counted as
-- disadvantaged on one source only - so no one is dropped or added silently
-- (docs/methodology.md#data-quality-counts). Business rules:
--   * the checks and their treatment are the data_quality_checks seed; every check of a cohort is
--     listed for every year and geography the cohort has, with 0 where no pupil is affected;
--   * pupils are placed at the school the check names (the results school for results without a
--     January census row, the census school for census pupils without results), and through it
--     in a learning community; cohort_pupils is the cohort's size there, for scale.
with members as (
    select *, {{ authority_code('laestab') }} as old_la_code from {{ ref('int_cohort_members') }}
),

flagged as (
    select *, {{ authority_code('laestab') }} as old_la_code from {{ ref('int_cohort_reconciliation') }}
),

cohort_sizes as (
    {{ community_and_authority('members', ['academic_year', 'cohort'], 'count(*) as cohort_pupils') }}
),

check_counts as (
    {{ community_and_authority('flagged', ['academic_year', 'cohort', 'check_code'], 'count(*) as pupils') }}
),

frame as (
    select distinct academic_year, cohort, geographic_level, old_la_code, learning_community_code from cohort_sizes
    union
    select distinct academic_year, cohort, geographic_level, old_la_code, learning_community_code from check_counts
)

select
    {{ ees_header('frame.academic_year', 'frame.geographic_level', 'frame.old_la_code') }},
    frame.learning_community_code,
    lc.learning_community_name,
    frame.academic_year,
    frame.cohort,
    checks.check_code,
    checks.treatment,
    checks.description,
    cast(coalesce(counts.pupils, 0) as {{ dbt.type_bigint() }}) as pupils,
    cast(coalesce(sizes.cohort_pupils, 0) as {{ dbt.type_bigint() }}) as cohort_pupils
from frame
inner join {{ ref('data_quality_checks') }} as checks on frame.cohort = checks.cohort
left join check_counts as counts
    on frame.academic_year = counts.academic_year and frame.cohort = counts.cohort
        and checks.check_code = counts.check_code and frame.geographic_level = counts.geographic_level
        and frame.old_la_code = counts.old_la_code
        and frame.learning_community_code is not distinct from counts.learning_community_code
left join cohort_sizes as sizes
    on frame.academic_year = sizes.academic_year and frame.cohort = sizes.cohort
        and frame.geographic_level = sizes.geographic_level and frame.old_la_code = sizes.old_la_code
        and frame.learning_community_code is not distinct from sizes.learning_community_code
left join {{ ref('stg_reference__learning_communities') }} as lc
    on frame.learning_community_code = lc.learning_community_code
