{#- Every non-null value of the column is a value of `field` in the reference model `to`
    (compared as text, so an integer grade matches a text class), optionally restricted by
    `to_filter` (e.g. scheme = 'carbon_grade'). -#}
{% test in_reference(model, column_name, to, field, to_filter=none) %}
select cast(m.{{ column_name }} as varchar) as value, count(*) as n_rows
from {{ model }} as m
where m.{{ column_name }} is not null
  and cast(m.{{ column_name }} as varchar) not in (
      select cast({{ field }} as varchar) from {{ to }}
      where {{ field }} is not null {% if to_filter %}and {{ to_filter }}{% endif %}
  )
group by 1
{% endtest %}
