{# Every row satisfies a SQL expression (what dbt_utils.expression_is_true does, without the package). #}
{% test expression_is_true(model, expression, column_name=none) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
