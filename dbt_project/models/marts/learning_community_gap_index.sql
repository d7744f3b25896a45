-- Grain: academic year x geography x stage (KS2, KS4). The DfE disadvantage gap index.
-- Business rules (DfE SFR 40/2014, restated by the Social Mobility Commission):
--   * rank all eligible pupils by attainment, ties sharing the mean of their ranks;
--   * percentile rank = rank / N;
--   * index = 20 x (mean percentile rank of other pupils - mean percentile rank of disadvantaged);
--     0 = no gap, +10 = every other pupil outranks every disadvantaged pupil;
--   * pupils are ranked within their authority (the warehouse holds no national pupil data), so a
--     learning community's index places its pupils among the borough's, and the national index
--     beside it is a benchmark, not the same ranking; a warehouse holding several authorities
--     ranks each apart;
--   * where subjects are ranked separately, the index is the mean of the subjects' indices.
with scores as (
    select *, {{ authority_code('laestab') }} as old_la_code from {{ ref('int_gap_index_scores') }}
),

ranked as (
    select
        scores.*,
        rank() over (partition by scores.academic_year, scores.old_la_code, scores.stage, scores.subject order by scores.score)
        + (count(*) over (partition by scores.academic_year, scores.old_la_code, scores.stage, scores.subject, scores.score) - 1) / 2.0 as mean_rank,
        count(*) over (partition by scores.academic_year, scores.old_la_code, scores.stage, scores.subject) as ranked_pupils
    from scores
),

percentiles as (
    select ranked.*, ranked.mean_rank / ranked.ranked_pupils as percentile_rank
    from ranked
),

by_geography as (
    {{ community_and_authority('percentiles', ['academic_year', 'stage', 'subject'],
        'sum(case when is_disadvantaged then 1 else 0 end) as disadvantaged_pupils,
        sum(case when is_disadvantaged then 0 else 1 end) as other_pupils,
        sum(case when is_disadvantaged then percentile_rank else 0 end) as disadvantaged_percentile_sum,
        sum(case when is_disadvantaged then 0 else percentile_rank end) as other_percentile_sum') }}
),

subject_index as (
    select
        by_geography.*,
        20 * (
            by_geography.other_percentile_sum / nullif(by_geography.other_pupils, 0)
            - by_geography.disadvantaged_percentile_sum / nullif(by_geography.disadvantaged_pupils, 0)
        ) as subject_gap_index
    from by_geography
),

combined as (
    select
        academic_year, stage, geographic_level, old_la_code, learning_community_code,
        min(disadvantaged_pupils) as disadvantaged_pupils,
        min(other_pupils) as other_pupils,
        avg(disadvantaged_percentile_sum / nullif(disadvantaged_pupils, 0)) as disadvantaged_mean_percentile_rank,
        avg(other_percentile_sum / nullif(other_pupils, 0)) as other_mean_percentile_rank,
        avg(subject_gap_index) as gap_index,
        count(*) as subjects_ranked
    from subject_index
    group by academic_year, stage, geographic_level, old_la_code, learning_community_code
)

select
    {{ ees_header('combined.academic_year', "combined.geographic_level", "combined.old_la_code") }},
    combined.learning_community_code,
    lc.learning_community_name,
    lc.collaborative,
    combined.academic_year,
    combined.stage,
    cast(combined.disadvantaged_pupils as {{ dbt.type_bigint() }}) as disadvantaged_pupils,
    cast(combined.other_pupils as {{ dbt.type_bigint() }}) as other_pupils,
    {{ round_half_up("combined.disadvantaged_mean_percentile_rank", 4) }} as disadvantaged_mean_percentile_rank,
    {{ round_half_up("combined.other_mean_percentile_rank", 4) }} as other_mean_percentile_rank,
    {{ round_half_up("combined.gap_index", 2) }} as gap_index,
    combined.subjects_ranked,
    national.gap_index as national_gap_index
from combined
left join {{ ref('stg_reference__learning_communities') }} as lc
    on combined.learning_community_code = lc.learning_community_code
left join {{ ref('national_gap_index') }} as national
    on national.time_period = {{ time_period('combined.academic_year') }} and combined.stage = national.stage
