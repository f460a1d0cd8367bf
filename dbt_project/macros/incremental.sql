{#- Incremental energy models (issue 7). Staging only grows: every ingested file adds rows with a
    larger delivery_seq. A model built through delivery N needs, for delivery N+1.., only the
    periods those rows carry: revision resolution and monthly sums are per period, so rebuilding
    those periods whole (delete+insert) gives the same rows as a full build. Anything else that
    could change a result (seeds, vars, SQL) makes orchestration/dbt.py pass --full-refresh. -#}

{#- The periods ('YYYY-MM') of staged energy rows delivered after the target was built. -#}
{% macro periods_delivered_since_build(staged, target) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set query -%}
        select distinct period
        from {{ staged }}
        where delivery_seq > (select coalesce(max(built_through_delivery_seq), -1) from {{ target }})
        order by period
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{#- A where clause limiting an incremental build to those periods (all periods on a full build). -#}
{% macro only_periods_delivered_since_build(period_column, staged) -%}
    {%- if is_incremental() -%}
        {%- set periods = periods_delivered_since_build(staged, this) -%}
        {%- if periods -%}
    where {{ period_column }} in ({% for p in periods %}'{{ p }}'{{ ", " if not loop.last }}{% endfor %})
        {%- else -%}
    where false  -- nothing delivered since the last build
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The latest delivery staged: stored on every row built, the watermark of the next build. -#}
{% macro latest_staged_delivery(staged) -%}
(select coalesce(max(delivery_seq), -1) from {{ staged }})
{%- endmacro %}
