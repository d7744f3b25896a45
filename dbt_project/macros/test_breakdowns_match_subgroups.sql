{# The outcomes mart lists its breakdowns by name; fail if int_pupil_subgroups has one it does not. #}
{% test breakdowns_match_subgroups(model) %}
select distinct breakdown from {{ ref('int_pupil_subgroups') }}
except
select distinct breakdown from {{ model }}
{% endtest %}
