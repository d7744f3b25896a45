-- A Progress 8-style value added from the borough's own KS2 -> KS4 linkage, labelled LOCAL:
-- it compares each pupil with borough pupils of the same prior attainment, not with England,
-- so it is not the DfE Progress 8 and sums to about zero across the borough each year.
-- Business rules: prior attainment = mean of the pupil's KS2 reading and maths scaled scores
-- five years earlier, in whole-point groups; estimate = mean Attainment 8 of the borough's
-- pupils in the same group that year; local progress = (Attainment 8 - estimate) / 10. Pupils
-- without both KS2 scaled scores (result codes, or KS2 outside the borough) have no score.
with linked as (
    select
        ks4.pupil_key,
        ks4.academic_year,
        ks4.laestab,
        ks4.learning_community_code,
        ks4.attainment_8,
        floor((ks2.reading_scaled_score + ks2.maths_scaled_score) / 2.0) as prior_attainment_group
    from {{ ref('int_ks4_pupils') }} as ks4
    inner join {{ ref('int_ks2_pupils') }} as ks2
        on ks4.pupil_key = ks2.pupil_key and ks2.academic_year = ks4.academic_year - 5
    where ks2.reading_scaled_score is not null and ks2.maths_scaled_score is not null
),

estimates as (
    select academic_year, prior_attainment_group, avg(attainment_8) as estimated_attainment_8, count(*) as group_pupils
    from linked
    group by academic_year, prior_attainment_group
)

select
    linked.*,
    estimates.estimated_attainment_8,
    estimates.group_pupils,
    (linked.attainment_8 - estimates.estimated_attainment_8) / cast(10 as {{ type_double() }}) as local_progress_8
from linked
inner join estimates
    on linked.academic_year = estimates.academic_year
        and linked.prior_attainment_group = estimates.prior_attainment_group
