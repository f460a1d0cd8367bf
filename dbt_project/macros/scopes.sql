{#- The city's scope: one row, `scope_code` = the code of the districts row of kind 'city' (330100). -#}
{% macro city_scope() -%}
select district_code as scope_code from {{ ref('districts') }} where kind = 'city'
{%- endmacro %}

{#- Every row of `relation` (a relation or CTE with a `district_code` column) in each scope it
    counts in: once for the city and once for its own district (a row without a district counts
    for the city only). Columns: `scope_code`, then all of the relation's. A mart that groups by
    scope_code thus gives the city row and one row per district from the same rows (docs/green.md). -#}
{% macro city_and_district_scopes(relation) -%}
select c.scope_code, r.* from {{ relation }} as r cross join ({{ city_scope() }}) as c
union all
select r.district_code, r.* from {{ relation }} as r where r.district_code is not null
{%- endmacro %}
