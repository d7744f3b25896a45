-- One row per pupil enrolment (pupil x school) per academic year with possible sessions, sessions
-- summed over the terms held (docs/methodology.md#population-attendance).
-- Business rules (EES pupil absence methodology):
--   * the population is enrolments of pupils of compulsory school age, 5 to 15 at 31 August
--     (60-191 months): is_compulsory_school_age. An enrolment whose age is not known is not in
--     it (counted in int_cohort_reconciliation);
--   * enrolments with no possible sessions are not enrolments for absence and are dropped;
--   * overall absence rate = absence sessions / possible sessions, summed (not a mean of rates);
--   * persistent absence: the enrolment missed >= the persistent threshold (10%) of its own
--     possible sessions; severe absence: >= the severe threshold (50%).
with enrolments as (
    select
        pupil_key,
        academic_year,
        laestab,
        max(age_months_at_31_august) as age_months_at_31_august,
        sum(possible_sessions) as possible_sessions,
        sum(authorised_absence_sessions) as authorised_absence_sessions,
        sum(unauthorised_absence_sessions) as unauthorised_absence_sessions,
        sum(absence_sessions) as absence_sessions
    from {{ ref('stg_attendance__enrolment_terms') }}
    group by pupil_key, academic_year, laestab
)

select
    enrolments.*,
    est.learning_community_code,
    coalesce(enrolments.age_months_at_31_august between 60 and 191, false) as is_compulsory_school_age,
    enrolments.absence_sessions >= {{ var('pathways:persistent_absence_threshold') }} * enrolments.possible_sessions
        as is_persistently_absent,
    enrolments.absence_sessions >= {{ var('pathways:severe_absence_threshold') }} * enrolments.possible_sessions
        as is_severely_absent
from enrolments
left join {{ ref('int_establishments') }} as est on enrolments.laestab = est.laestab
where enrolments.possible_sessions > 0
