{# Every difference between the engines dbt builds on (PATHWAYS_ENGINE: duckdb, spark) is here, as
   adapter.dispatch macros, so the models are one SQL for both and give the same figures on both. #}

{# A figure rounded to `decimals` places, half away from zero, the same on every engine: through a
   decimal, because round() on a double rounds the binary value (28.549999... -> 28.5 on one engine,
   28.6 on another) and engines sum doubles in different orders. Returned as a double (Spark's float
   is 4 bytes: dbt.type_float() is not used). `decimals` may be a column holding 0 to 4. #}
{% macro round_half_up(expression, decimals) -%}
    {%- if decimals is number -%}
        cast(round(cast({{ expression }} as decimal(38, 10)), {{ decimals }}) as double)
    {%- else -%}
        {#- a column of decimals (the measures seed): Spark's round takes only a constant scale -#}
        case {{ decimals }}
            {%- for d in range(0, 5) %} when {{ d }} then cast(round(cast({{ expression }} as decimal(38, 10)), {{ d }}) as double){% endfor %}
        end
    {%- endif -%}
{%- endmacro %}

{# The 8-byte float. dbt.type_float() is 4 bytes on both DuckDB and Spark (float): a per-pupil
   figure such as an EBacc average point score (19.5 / 6) lost digits, and the engines' decimal and
   float division rounded it differently. Arithmetic that can give fractions divides doubles, never
   decimal literals (Spark keeps 6 decimal places of a decimal quotient, DuckDB a double). #}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}
{% macro default__type_double() -%}
    double
{%- endmacro %}

{# What per-pupil numerators and denominators are added up in: a decimal of 10 places, so that sums
   are exact and the same in any order, on any engine (sums of doubles differ in their last bits with
   the order rows arrive in). Figures are computed from them as doubles (ratio_value). #}
{% macro type_exact_sum() -%}
    {{ return(adapter.dispatch('type_exact_sum')()) }}
{%- endmacro %}
{% macro default__type_exact_sum() -%}
    decimal(38, 10)
{%- endmacro %}

{# Text to integer, null where the text is not a number (a result code in a score column), without
   relying on the engine's cast mode: dbt-duckdb's safe_cast is a plain cast and dbt-spark turns ANSI
   mode off only for its own sessions. A decimal text rounds as DuckDB's cast rounds it. #}
{% macro safe_integer(col) -%}
    {{ return(adapter.dispatch('safe_integer')(col)) }}
{%- endmacro %}
{% macro default__safe_integer(col) -%}
    {{ dbt.safe_cast(col, api.Column.translate_type("integer")) }}
{%- endmacro %}
{% macro duckdb__safe_integer(col) -%}
    try_cast({{ col }} as integer)
{%- endmacro %}
{% macro spark__safe_integer(col) -%}
    coalesce(try_cast(trim({{ col }}) as int), cast(round(try_cast(trim({{ col }}) as decimal(38, 10))) as int))
{%- endmacro %}

{# Text of a group's values joined by `delimiter` in the order `order_by` gives (state NULLS
   FIRST/LAST: engines differ in their default). dbt-spark's listagg drops the order. #}
{% macro ordered_listagg(measure, delimiter, order_by) -%}
    {{ return(adapter.dispatch('ordered_listagg')(measure, delimiter, order_by)) }}
{%- endmacro %}
{% macro default__ordered_listagg(measure, delimiter, order_by) -%}
    {{ dbt.listagg(measure, delimiter, "order by " ~ order_by) }}
{%- endmacro %}
{% macro spark__ordered_listagg(measure, delimiter, order_by) -%}
    {#- Spark 4's listagg takes its order WITHIN GROUP -#}
    listagg({{ measure }}, {{ delimiter }}) within group (order by {{ order_by }})
{%- endmacro %}

{# on-run-start: the raw sources. On DuckDB they are tables in the warehouse file, loaded by ingest.
   Spark reads the raw uploads as Parquet, one file per upload (engine/lake.py): each raw source is
   an external table over its folder, made again each run so new files and columns are seen. #}
{% macro register_raw_sources() -%}
    {{ return(adapter.dispatch('register_raw_sources')()) }}
{%- endmacro %}
{% macro default__register_raw_sources() -%}
{%- endmacro %}
{% macro spark__register_raw_sources() -%}
    {%- if execute -%}
        {%- do run_query("create database if not exists raw") -%}
        {%- for source in graph.sources.values() | selectattr("source_name", "equalto", "raw") -%}
            {%- do run_query("drop table if exists raw." ~ source.name) -%}
            {%- do run_query("create table raw." ~ source.name ~ " using parquet location '"
                             ~ var('pathways:lake_dir') ~ "/raw/" ~ source.name ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{# Seeds on Spark: dbt-spark's session connection puts each value into the SQL between quotes
   without escaping them (a quote in a seed's SQL text breaks the load) and loads an empty cell as
   the text 'None'. Here the values are written as escaped literals and empty cells as null. #}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                    {%- set value = row[loop.index0] -%}
                    {%- if value is none -%}cast(null as {{ type }})
                    {%- else -%}cast('{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ type }})
                    {%- endif -%}
                    {%- if not loop.last -%},{%- endif -%}
                {%- endfor -%})
                {%- if not loop.last -%},{%- endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 -%}{%- do statements.append(sql) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}

{# CTE `name` (urn, linked_urn): every pair joined by a chain of `edges` (urn -> link_urn), stopping at
   cycles; for use under `with recursive`. DuckDB's recursive UNION stops at rows already found; Spark
   allows only UNION ALL in a recursive CTE, so it walks simple paths (a node never twice) and keeps
   each pair once. The pairs are the same. #}
{% macro reachable_pairs(name, edges) -%}
    {{ return(adapter.dispatch('reachable_pairs')(name, edges)) }}
{%- endmacro %}
{% macro default__reachable_pairs(name, edges) -%}
{{ name }} (urn, linked_urn) as (
    select
        urn,
        link_urn
    from {{ edges }}
    union
    select
        {{ name }}.urn,
        {{ edges }}.link_urn
    from {{ name }}
    inner join {{ edges }} on {{ name }}.linked_urn = {{ edges }}.urn
)
{%- endmacro %}
{% macro spark__reachable_pairs(name, edges) -%}
{{ name }}_paths (urn, linked_urn, path) as (
    select
        urn,
        link_urn,
        array(urn, link_urn)
    from {{ edges }}
    union all
    select
        p.urn,
        e.link_urn,
        array_append(p.path, e.link_urn)
    from {{ name }}_paths as p
    inner join {{ edges }} as e on p.linked_urn = e.urn
    where not array_contains(p.path, e.link_urn)
),

{{ name }} as (
    select distinct
        urn,
        linked_urn
    from {{ name }}_paths
)
{%- endmacro %}
