{# Every (cohort, check_code) a model emits is described in the data_quality_checks seed. #}
{% test relationships_to_checks(model) %}
select distinct cohort, check_code from {{ model }}
except
select cohort, check_code from {{ ref('data_quality_checks') }}
{% endtest %}
