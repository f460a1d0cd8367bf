{#- Year at a time: at scale (HZCARBON_DBT_YEAR_AT_A_TIME=1, set by warehouse/duckdb_limits.py
    from the staged energy rows), the full build of a model whose rows of year y read only inputs
    of y (and y − 1) runs one statement per year. The model's own statement builds the first year
    and the post-hook insert_later_years inserts the others, in the same transaction. A window or
    a hash join then holds one year's state: over every year at once, int_enterprise_period and
    reporting_status needed more memory than DuckDB could pin at 500,000 enterprises
    (bench/README.md). The rows are those of one statement over every year; an incremental build
    keeps its own choice of years (macros/incremental.sql). -#}

{#- Whether this full build runs year at a time. In a dbt unit test the inputs are fixtures, not
    tables (`input` is a string), and there are no hooks: never. -#}
{% macro full_build_year_at_a_time(input) -%}
    {{ return(execute and input is not string and env_var('HZCARBON_DBT_YEAR_AT_A_TIME', '0') == '1') }}
{%- endmacro %}

{#- The years `years_sql` (one integer column) lists, in order. -#}
{% macro years_listed_by(years_sql) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {{ return(run_query("select * from (" ~ years_sql ~ ") order by 1").columns[0].values() | map('int') | list) }}
{%- endmacro %}

{#- The years the model's own statement builds on a full build: year at a time, the first year
    `years_sql` lists (none listed: none); else every year (none). -#}
{% macro first_year_of_full_build(input, years_sql) -%}
    {%- if not full_build_year_at_a_time(input) -%}{{ return(none) }}{%- endif -%}
    {{ return(years_listed_by(years_sql)[:1]) }}
{%- endmacro %}

{#- post-hook of a full build year at a time: the rows of every later year, one statement each.
    `rows` is the macro giving the model's rows for a list of years; `input` as in
    first_year_of_full_build. -#}
{% macro insert_later_years(rows, input, years_sql) -%}
    {%- if not is_incremental() and full_build_year_at_a_time(input) -%}
        {%- for y in years_listed_by(years_sql)[1:] %}
insert into {{ this }} by name {{ rows([y]) }}{{ ";" if not loop.last }}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
