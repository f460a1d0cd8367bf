{#- Every rule a published table's contract gives its mart, as ONE dbt test per model
    (data_contracts/dbt_yaml.py generates its arguments): `not_null` (not_null_columns),
    `combination` (the primary key, unique_combination), `domains` (enum values and ranges,
    column_domains) and `references` (codes in the reference seeds: {column, to, field,
    to_filter}, in_reference). Each dbt test node costs ~50 ms of dbt and Dagster bookkeeping
    whatever the data; the ~120 per-rule tests of the marts were half the build's nodes.
    Fails with one row per broken rule and column (or code value): `rule`, `column_name`,
    `detail` and how many rows (`n_rows`). On an incremental build, a model rebuilt by year
    (delete_years_to_rebuild) is checked on the years it rebuilt, when its key holds the year
    (rows_rebuilt_now). -#}
{% test contract(model, not_null=[], combination=[], domains=[], references=[]) %}
{#- a model rebuilt by year in this build: only the years rebuilt (macros/incremental.sql) -#}
{%- set model = rows_rebuilt_now(model, combination) -%}
{%- set parts = [] -%}
{%- if not_null -%}
    {%- do parts.append("select 'not_null' as rule, column_name, 'null' as detail, null_rows as n_rows from ("
                        ~ test_not_null_columns(model, not_null) ~ ")") -%}
{%- endif -%}
{%- if combination -%}
    {%- do parts.append("select 'unique' as rule, '" ~ (combination | join(', ') | replace('\"', '') | replace("'", "''"))
                        ~ "' as column_name, count(*) || ' duplicated keys' as detail, sum(n_rows) as n_rows from ("
                        ~ test_unique_combination(model, combination) ~ ") having count(*) > 0") -%}
{%- endif -%}
{%- if domains -%}
    {%- do parts.append("select 'domain' as rule, column_name, 'outside its values or range' as detail, rows_outside as n_rows from ("
                        ~ test_column_domains(model, domains) ~ ")") -%}
{%- endif -%}
{%- for ref in references -%}
    {%- do parts.append("select 'in_reference' as rule, '" ~ ref['column'] ~ "' as column_name, "
                        ~ "'not in " ~ (ref['to'] | string | replace("'", "''")) ~ "." ~ ref['field'] ~ ": ' || value as detail, n_rows from ("
                        ~ test_in_reference(model, ref['column'], ref['to'], ref['field'], ref.get('to_filter')) ~ ")") -%}
{%- endfor -%}
{%- if parts %}
{{ parts | join('\nunion all\n') }}
{%- else %}
select null as rule, null as column_name, null as detail, 0 as n_rows where false
{%- endif %}
{% endtest %}
