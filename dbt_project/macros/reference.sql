{#- Rule values are read from the seeds by name: no rule value is a literal in SQL. -#}

{% macro threshold(name) -%}
(select max(value) from {{ ref('thresholds') }} where name = '{{ name }}')
{%- endmacro %}

{#- The set id in use: var override, else the latest set id in the seed. -#}
{% macro factor_set() -%}
{%- if var('factor_set') -%}'{{ var('factor_set') }}'{%- else -%}(select max(factor_set) from {{ ref('emission_factors') }}){%- endif -%}
{%- endmacro %}

{% macro mu_rule_set() -%}
{%- if var('mu_rule_set') -%}'{{ var('mu_rule_set') }}'{%- else -%}(select max(rule_set) from {{ ref('mu_rules') }}){%- endif -%}
{%- endmacro %}

{% macro carbon_rule_set() -%}
{%- if var('carbon_rule_set') -%}'{{ var('carbon_rule_set') }}'{%- else -%}(select max(rule_set) from {{ ref('classification_rules') }} where scheme = 'carbon_grade'){%- endif -%}
{%- endmacro %}

{% macro limit_set() -%}
{%- if var('limit_set') -%}'{{ var('limit_set') }}'{%- else -%}(select max(limit_set) from {{ ref('product_energy_limits') }}){%- endif -%}
{%- endmacro %}

{#- as_of ('YYYY-MM', "now" for the rules), as text, as a year and as a month key yyyymm. The
    orchestration passes it in the environment (HZCARBON_DBT_AS_OF), not in --vars: dbt throws away
    its partial parse whenever a --vars value changes, and as_of changes every month (~3 s of parsing
    a run). A direct `dbt` call can still give --vars '{as_of: ...}'. The variable is read only when
    dbt executes: read while parsing, its value would be part of the parse, and the files that call
    as_of() would be parsed again whenever it differs from that of the prepared parse (a new month,
    every new warehouse). -#}
{% macro as_of() -%}{{ env_var('HZCARBON_DBT_AS_OF', var('as_of')) if execute else var('as_of') }}{%- endmacro %}
{% macro as_of_year() -%}{{ as_of()[:4] | int }}{%- endmacro %}
{% macro as_of_key() -%}{{ (as_of()[:4] ~ as_of()[5:7]) | int }}{%- endmacro %}

{#- Base year of comparable prices (deflator index = 1): the first deflator row. -#}
{% macro price_base_year() -%}
(select min(year) from {{ ref('deflators') }})
{%- endmacro %}

{#- Which version of versioned reference rows is in force in each year (docs/indicators.md): per
    year of `years` (a relation or CTE; its column `year_column`) and per value of the `by` columns
    of `versioned`, the greatest valid_from_year <= the year. Columns: `year_column`, the `by`
    columns, valid_from_year; a year before the first version has no row. Join the versioned rows
    back on the `by` columns and valid_from_year to read the rows in force. -#}
{% macro versions_in_force(versioned, years, year_column, by=[]) -%}
select y.{{ year_column }}{% for c in by %}, v.{{ c }}{% endfor %}, max(v.valid_from_year) as valid_from_year
from (select distinct {{ year_column }} from {{ years }}) as y
inner join {{ versioned }} as v on v.valid_from_year <= y.{{ year_column }}
group by y.{{ year_column }}{% for c in by %}, v.{{ c }}{% endfor %}
{%- endmacro %}

{#- Month key (yyyymm) from which the 2021 boundaries apply: the first valid_from of a current district. -#}
{% macro boundary_change_key() -%}
(select min(year(valid_from) * 100 + month(valid_from)) from {{ ref('districts') }} where valid_from is not null)
{%- endmacro %}

{#- Rounding half away from zero (DuckDB's DECIMAL round); the cast to 9 decimals absorbs binary noise. -#}
{% macro round_half_away(expr, digits) -%}
cast(round(cast({{ expr }} as decimal(38, 9)), {{ digits }}) as double)
{%- endmacro %}

{#- a / b, null when b is 0 or null. -#}
{% macro safe_div(a, b) -%}
({{ a }}) / nullif({{ b }}, 0)
{%- endmacro %}

{#- Relative difference |v - r| / |r|, null when r is 0 or null. -#}
{% macro relative_difference(v, r) -%}
abs(({{ v }}) - ({{ r }})) / nullif(abs({{ r }}), 0)
{%- endmacro %}
