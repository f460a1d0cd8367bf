{#- The columns `combination` together identify a row. `delivered_by`: the model holds staged energy
    rows and `combination` includes the period: on an incremental build only the periods delivered
    since the test last passed are checked (macros/incremental.sql, only_delivered_since_test). -#}
{% test unique_combination(model, combination, delivered_by=none) %}
select {{ combination | join(', ') }}, count(*) as n_rows
from {{ model }}
{% if delivered_by %}{{ only_delivered_since_test('period', ref(delivered_by)) }}{% endif %}
group by {{ combination | join(', ') }}
having count(*) > 1
{% endtest %}
