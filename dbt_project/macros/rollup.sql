{# Figures for each learning community and for its authority, from one relation: the rows of
   pupils at a school with no learning community count in the authority only. `keys` are the
   grouping columns besides geography; `aggregates` the SQL of the summed columns. The output
   has keys, geographic_level, old_la_code, learning_community_code, then the aggregates. #}
{% macro community_and_authority(relation, keys, aggregates) -%}
    select
        {{ keys | join(', ') }},
        {{ label('learning_community') }} as geographic_level,
        old_la_code,
        learning_community_code,
        {{ aggregates }}
    from {{ relation }}
    where learning_community_code is not null
    group by {{ keys | join(', ') }}, old_la_code, learning_community_code
    union all
    select
        {{ keys | join(', ') }},
        {{ label('local_authority') }} as geographic_level,
        old_la_code,
        cast(null as {{ dbt.type_string() }}) as learning_community_code,
        {{ aggregates }}
    from {{ relation }}
    group by {{ keys | join(', ') }}, old_la_code
{%- endmacro %}
