-- One row per pupil per academic year on the pupil premium file.
-- Business rule (DfE): disadvantaged = Ever 6 FSM, or looked after, or previously looked after.
-- Service children are not disadvantaged. A pupil absent from the file is "not known to be disadvantaged".
select
    pupil_key,
    academic_year,
    max(case when is_ever6_fsm then 1 else 0 end) = 1 as is_ever6_fsm,
    max(case when is_looked_after then 1 else 0 end) = 1 as is_looked_after,
    max(case when is_previously_looked_after then 1 else 0 end) = 1 as is_previously_looked_after,
    max(case when is_service_child then 1 else 0 end) = 1 as is_service_child,
    max(case when is_ever6_fsm or is_looked_after or is_previously_looked_after then 1 else 0 end) = 1
        as is_disadvantaged
from {{ ref('stg_pupil_premium__eligibility') }}
group by pupil_key, academic_year
