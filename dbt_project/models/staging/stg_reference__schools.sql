-- One row per URN of the authority's schools in a learning community (docs/methodology.md#gias-extracts).
-- The reference is either a Pathways schools file (community and predecessor on each row) or a GIAS
-- establishment extract with a separate membership file. A school's community is, in order: its own
-- row's, the membership file's for its URN, then for its LAESTAB, then (for a predecessor or successor
-- the membership file does not list, such as a school closed on academy conversion) that of the most
-- recently opened school it is linked to by succession in the GIAS links file. Establishments in no
-- community (independent schools, long-closed schools of the extract) are not the authority's schools here.
with recursive

schools as (
    select * from {{ source('raw', 'schools') }}
),

succession as (
    -- Predecessor/Successor links (with their merged, amalgamated and split-school kinds) between two
    -- of the authority's establishments; sixth-form centre, expansion, closure and other links are not succession.
    select
        links.urn,
        links.link_urn,
        links.link_type
    from
        {{ optional_source('school_links', 'cast(null as integer) as urn, cast(null as integer) as link_urn, '
                                            ~ 'cast(null as ' ~ dbt.type_string() ~ ') as link_type') }} as links
    where
        (
            links.link_type like 'Predecessor%'
            or links.link_type like 'Successor%'
            or links.link_type = 'Result of Amalgamation'
        )
        and links.urn in (select s.urn from schools as s)
        and links.link_urn in (select s.urn from schools as s)
),

membership as (
    select urn, laestab, learning_community_code
    from {{ optional_source('community_membership', 'cast(null as integer) as urn, cast(null as integer) as laestab, cast(null as '
                            ~ dbt.type_string() ~ ') as learning_community_code') }}
),

by_urn as (
    select
        urn,
        min(learning_community_code) as learning_community_code
    from membership
    where urn is not null
    group by urn
),

by_laestab as (
    select
        laestab,
        min(learning_community_code) as learning_community_code
    from membership
    where laestab is not null
    group by laestab
),

direct as (
    select
        schools.*,
        coalesce(
            schools.learning_community_code, by_urn.learning_community_code, by_laestab.learning_community_code
        ) as direct_community
    from schools
    left join by_urn on schools.urn = by_urn.urn
    left join by_laestab on schools.laestab = by_laestab.laestab
),

edges as (
    select
        urn,
        link_urn
    from succession
    union
    select
        link_urn as urn,
        urn as link_urn
    from succession
),

-- every establishment reachable by succession, either way (stopping at cycles)
{{ reachable_pairs('linked', 'edges') }},

linked_community as (
    select
        linked.urn,
        other.direct_community,
        row_number() over (
            partition by linked.urn order by other.open_date desc nulls last, other.urn desc
        ) as nearest
    from linked
    inner join direct as other on linked.linked_urn = other.urn
    where other.direct_community is not null and linked.linked_urn != linked.urn
),

predecessors as (
    -- LinkType names the role of LinkURN: "Predecessor" rows name it directly, "Successor" rows the other way
    select
        urn,
        max(link_urn) as predecessor_urn
    from (
        select
            urn,
            link_urn
        from succession
        where link_type like 'Predecessor%'
        union
        select
            link_urn as urn,
            urn as link_urn
        from succession
        where link_type like 'Successor%'
    ) as p
    group by urn
),

resolved as (
    select
        direct.urn,
        direct.laestab,
        direct.school_name,
        direct.phase,
        direct.establishment_type,
        coalesce(direct.direct_community, lc.direct_community) as learning_community_code,
        direct.collaborative,
        direct.open_date,
        direct.close_date,
        coalesce(direct.predecessor_urn, predecessors.predecessor_urn) as predecessor_urn
    from direct
    left join linked_community as lc on direct.urn = lc.urn and lc.nearest = 1
    left join predecessors on direct.urn = predecessors.urn
)

select * from resolved
where learning_community_code is not null
