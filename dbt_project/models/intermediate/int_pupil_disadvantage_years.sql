-- Disadvantage per pupil and academic year, decided here only (docs/methodology.md#disadvantage-in-pathways).
-- Business rules (DfE pupil premium; KS2 and KS4 methodologies):
--   * disadvantaged = Ever 6 FSM, or looked after, or previously looked after; service children
--     are not disadvantaged;
--   * Ever 6 FSM is taken from both sources: the pupil premium file's flag (DfE's national Ever 6,
--     for the pupils on roll at its census), or FSM eligibility on any census the warehouse holds
--     from the autumn census five years before to the spring census of the year. The census can
--     add a pupil, never remove one the file flags; where the six-year census history is not
--     held (early years of the files) only the file can see the earlier years;
--   * looked after and previously looked after come from the file only (the census does not hold them);
--   * a pupil with no row is "not known to be disadvantaged".
with pupil_premium as (
    select
        pupil_key,
        academic_year,
        max(case when is_ever6_fsm then 1 else 0 end) = 1 as is_ever6_fsm,
        max(case when is_looked_after then 1 else 0 end) = 1 as is_looked_after,
        max(case when is_previously_looked_after then 1 else 0 end) = 1 as is_previously_looked_after,
        max(case when is_service_child then 1 else 0 end) = 1 as is_service_child
    from {{ ref('stg_pupil_premium__eligibility') }}
    group by pupil_key, academic_year
),

years as (
    -- the years a census or pupil premium file is held for (results and attendance come with them)
    select academic_year from {{ ref('stg_census__pupil_terms') }}
    union
    select academic_year from {{ ref('stg_pupil_premium__eligibility') }}
),

fsm_censuses as (
    -- every census on which the pupil was recorded eligible for free school meals, at any school
    select distinct pupil_key, academic_year, term_order
    from {{ ref('stg_census__pupil_terms') }}
    where is_fsm_eligible
),

census_ever6 as (
    -- autumn of year Y-5 to spring of year Y: six academic years, this year's summer census excluded
    select distinct fsm.pupil_key, years.academic_year
    from fsm_censuses as fsm
    inner join years
        on fsm.academic_year between years.academic_year - 5 and years.academic_year
            and not (fsm.academic_year = years.academic_year and fsm.term_order > 2)
),

first_autumn_census as (
    select min(academic_year) as academic_year
    from {{ ref('stg_census__pupil_terms') }}
    where term = 'autumn'
),

both_sources as (
    select
        coalesce(pp.pupil_key, census.pupil_key) as pupil_key,
        coalesce(pp.academic_year, census.academic_year) as academic_year,
        pp.pupil_key is not null as on_pupil_premium_file,
        coalesce(pp.is_ever6_fsm, false) as is_ever6_fsm_file,
        census.pupil_key is not null as is_ever6_fsm_census,
        coalesce(pp.is_looked_after, false) as is_looked_after,
        coalesce(pp.is_previously_looked_after, false) as is_previously_looked_after,
        coalesce(pp.is_service_child, false) as is_service_child
    from pupil_premium as pp
    full outer join census_ever6 as census
        on pp.pupil_key = census.pupil_key and pp.academic_year = census.academic_year
)

select
    both_sources.*,
    both_sources.is_ever6_fsm_file or both_sources.is_ever6_fsm_census as is_ever6_fsm,
    -- the census can see all six years of the window only where censuses are held back to autumn Y-5
    coalesce(first_autumn_census.academic_year <= both_sources.academic_year - 5, false) as census_history_complete,
    both_sources.is_ever6_fsm_file or both_sources.is_ever6_fsm_census
    or both_sources.is_looked_after or both_sources.is_previously_looked_after as is_disadvantaged
from both_sources
cross join first_autumn_census
