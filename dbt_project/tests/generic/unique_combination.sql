{#- The columns `combination` together identify a row. `delivered_by`: the model holds staged energy
    rows and `combination` includes the period: on an incremental build only the periods delivered
    since the test last passed are checked (macros/incremental.sql, only_delivered_since_test).
    A model rebuilt by year in this build, with the year in `combination`: only the years rebuilt
    (rows_rebuilt_now); the others are the rows the test passed on before. -#}
{% test unique_combination(model, combination, delivered_by=none) %}
select {{ combination | join(', ') }}, count(*) as n_rows
from {{ rows_rebuilt_now(model, combination) }}
{% if delivered_by %}{{ only_delivered_since_test('period', ref(delivered_by)) }}{% endif %}
group by {{ combination | join(', ') }}
having count(*) > 1
{% endtest %}
