-- restricted/enterprise_year: one row per uscc × year (docs/outputs.md).
-- Incremental by year (macros/enterprise_year_incremental.sql): the rows of year y are int_enterprise_year's of y.
{{ config(**enterprise_year_incremental([])) }}
{%- set rebuilt = enterprise_years_to_rebuild([]) %}
select
    {{ contract_columns('enterprise_year') | join(',\n    ') }}
from {{ ref('int_enterprise_year') }}
where true{{ and_years(rebuilt) }}
