{#- Every value of each of `columns` lies in its domain: {name, values: [...]} a set of allowed
    values, {name, min, max} an inclusive range (either bound may be missing). Nulls are left to
    not_null_columns. One test, and one scan, per model (generated from the contracts'
    enum and logicalTypeOptions by data_contracts/dbt_yaml.py). Fails with one row per column
    that has values outside its domain: the column and how many rows. -#}
{% test column_domains(model, columns) %}
with outside as (
    select
    {%- for column in columns %}
        {%- set name = adapter.quote(column.name) %}
        {%- if column.get('values') is not none %}
            {%- set quoted = [] %}
            {%- for v in column['values'] %}
                {%- do quoted.append(v if v is number else "'" ~ (v | replace("'", "''")) ~ "'") %}
            {%- endfor %}
        count(*) filter (where {{ name }} is not null and {{ name }} not in ({{ quoted | join(', ') }})) as outside_{{ loop.index }}
        {%- else %}
        count(*) filter (where {{ name }} is not null and (false
            {%- if column.get('min') is not none %} or {{ name }} < {{ column['min'] }}{% endif %}
            {%- if column.get('max') is not none %} or {{ name }} > {{ column['max'] }}{% endif %})) as outside_{{ loop.index }}
        {%- endif %}{{ "," if not loop.last }}
    {%- endfor %}
    from {{ model }}
)
{% for column in columns %}
select '{{ column.name }}' as column_name, outside_{{ loop.index }} as rows_outside
from outside where outside_{{ loop.index }} > 0
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{% endtest %}
