{#- Incremental energy models (issue 7). Staging only grows: every ingested file adds rows with a
    larger delivery_seq. A model built through delivery N needs, for deliveries N+1.., only the
    periods (or years) those rows carry: revision resolution and the monthly and annual sums are
    per period or year, so rebuilding those whole (delete+insert) gives the same rows as a full
    build. Anything else that could change a result (seeds, vars, SQL) makes
    orchestration/dbt.py pass --full-refresh.
    Each model's watermark (the latest delivery it has seen) is a row of build_watermarks, written
    by the model's post-hook; a missing row means "rebuild every period". -#}

{% macro build_watermarks() -%}main.build_watermarks{%- endmacro %}

{#- on-run-start: the watermark table exists before any model asks for it. -#}
{% macro create_build_watermarks() -%}
create table if not exists {{ build_watermarks() }} (model varchar primary key, delivery_seq bigint)
{%- endmacro %}

{#- post-hook of an incremental model: it has now seen every staged delivery. -#}
{% macro record_build_watermark(staged) -%}
insert or replace into {{ build_watermarks() }}
select '{{ this.identifier }}', {{ latest_staged_delivery(staged) }}
{%- endmacro %}

{#- The latest delivery staged. -#}
{% macro latest_staged_delivery(staged) -%}
(select coalesce(max(delivery_seq), -1) from {{ staged }})
{%- endmacro %}

{#- The periods ('YYYY-MM') or years of staged rows delivered after this model's watermark. -#}
{% macro delivered_since_build(staged, grain) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set value = 'period' if grain == 'period' else 'cast(left(period, 4) as integer)' -%}
    {%- set query -%}
        select distinct {{ value }}
        from {{ staged }}
        where delivery_seq > coalesce(
            (select max(delivery_seq) from {{ build_watermarks() }} where model = '{{ this.identifier }}'), -1)
        order by 1
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{#- A where clause limiting an incremental build to the periods or years delivered since its
    last build (no clause on a full build). `column` holds a period ('YYYY-MM') or a year. -#}
{% macro only_delivered_since_build(column, staged, grain='period') -%}
    {%- if is_incremental() -%}
        {%- set values = delivered_since_build(staged, grain) -%}
        {%- if values -%}
    where {{ column }} in ({% for v in values %}{{ "'" ~ v ~ "'" if grain == 'period' else v }}{{ ", " if not loop.last }}{% endfor %})
        {%- else -%}
    where false  -- nothing delivered since the last build
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
