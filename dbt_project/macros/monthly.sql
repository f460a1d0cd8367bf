{#- Monthly statistics (docs/monthly.md). -#}

{#- The summed measures of the monthly group tables, in column order (coal_t: city_month only). -#}
{% macro monthly_measures() -%}
{{ return(['energy_tce', 'energy_tce_net', 'co2_total_t', 'electricity_10k_kwh', 'coal_t']) }}
{%- endmacro %}

{#- The 同比 column of a measure (electricity_10k_kwh → electricity_yoy). -#}
{% macro yoy_column(measure) -%}
{{ 'electricity_yoy' if measure == 'electricity_10k_kwh' else measure ~ '_yoy' }}
{%- endmacro %}

{#- How many of a cell's largest contributions the monthly marts keep for the dominance rules
    (warehouse.disclosure takes the sdc_dominance_n largest of them). -#}
{% macro dominance_top_kept() -%}5{%- endmacro %}

{#- "Now" for due dates: HZCARBON_DBT_NOW (a build timestamp, Asia/Shanghai, ISO 8601) when
    given, else the end of the as_of month, so that a rebuild of the same as_of decides the same. -#}
{% macro now_at() -%}
{%- set now = env_var('HZCARBON_DBT_NOW', '') -%}
{%- if now -%}cast('{{ now }}' as timestamp)
{%- else -%}(cast('{{ as_of() }}-01' as date) + interval 1 month)::timestamp{%- endif -%}
{%- endmacro %}

{#- The monthly group table over int_enterprise_period, grouped by `group_cols`, for the
    published periods only (int_month_publication) and the periods the statistical calendar
    shows (1–m月 from m = 2, single months from m = 3). Besides the published columns it keeps
    what warehouse.disclosure needs and drops: entrant_count, leaver_count, the largest
    contributions (energy_tce_top, coal_t_top) and coal_reporter_count.
    `years`: only these years (an incremental build, month_group_incremental); none: every year. -#}
{% macro month_group_measures(group_cols, with_coal=false, years=none) -%}
{%- set keys = group_cols + ['year', 'month', 'period_type'] -%}
{%- set measures = monthly_measures() if with_coal else monthly_measures()[:-1] -%}
with agg as (
    select
        {% for c in keys %}p.{{ c }}, {% endfor %}
        count(*) filter (where p.reported) as enterprise_count,
        {%- for m in measures %}
        {{ exact_sum('p.' ~ m, 'p.reported') }} as {{ m }},
        {%- endfor %}
        count(*) filter (where p.is_comparable) as comparable_enterprise_count,
        {%- for m in measures %}
        {{ exact_sum('p.' ~ m ~ '_cmp', 'p.is_comparable') }} as {{ m }}_cmp,
        {{ exact_sum('p.' ~ m ~ '_prev', 'p.is_comparable') }} as {{ m }}_prev,
        {%- endfor %}
        coalesce(bool_or(p.provisional) filter (where p.reported), false)
            or coalesce(bool_or(p.provisional_prev) filter (where p.is_comparable), false) as provisional,
        count(*) filter (where p.reported and not p.reported_prev) as entrant_count,
        count(*) filter (where p.reported_prev and not p.reported) as leaver_count,
        {%- if with_coal %}
        count(*) filter (where p.reported_coal) as coal_reporter_count,
        max(p.coal_t, {{ dominance_top_kept() }}) filter (where p.reported_coal) as coal_t_top,
        {%- endif %}
        max(p.energy_tce, {{ dominance_top_kept() }}) filter (where p.reported) as energy_tce_top
    from {{ ref('int_enterprise_period') }} as p
    inner join {{ ref('int_month_publication') }} as pub
        on pub.year = p.year and pub.month = p.month
        and case when p.period_type = 'ytd' then pub.ytd_published else pub.month_published end
    where ((p.period_type = 'ytd' and p.month >= 2) or (p.period_type = 'month' and p.month >= 3))
    {%- if years is not none %}
      and /* incremental build */ {{ year_in(years, 'p.year') }}
    {%- endif %}
    group by {% for c in keys %}p.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
)

select
    {% for c in keys %}{{ c }}, {% endfor %}
    enterprise_count,
    {%- for m in measures %}
    {{ m }},
    {%- endfor %}
    comparable_enterprise_count,
    {%- for m in measures %}
    {{ safe_div(m ~ '_cmp', m ~ '_prev') }} - 1 as {{ yoy_column(m) }},
    {%- endfor %}
    provisional,
    entrant_count,
    leaver_count,
    {%- if with_coal %}
    coal_reporter_count,
    coal_t_top,
    {%- endif %}
    energy_tce_top
from agg
-- rows with no enterprise are not published (a cell holding only last year's reporters)
where enterprise_count > 0
{%- endmacro %}

{#- The monthly group tables are incremental by year (macros/incremental.sql): the rows of year y
    read only the rows of int_enterprise_period and int_month_publication of year y, so a build
    rebuilds the years whose signature changed (month_group_signature, macros/monthly_signatures.sql).
    Call as `{{ config(**month_group_incremental()) }}`, then
    month_group_measures(…, years=month_group_years() if is_incremental() else none). -#}
{% macro month_group_incremental() -%}
{{ return({'materialized': 'incremental', 'incremental_strategy': 'append', 'on_schema_change': 'fail',
           'pre_hook': "{{ delete_years_to_rebuild() }}",
           'post_hook': "{{ record_year_signatures(month_group_signature()) }}"}) }}
{%- endmacro %}

{#- The years an incremental build of a monthly group table rebuilds. -#}
{% macro month_group_years() -%}
{{ return(years_with_changed_inputs(month_group_signature())) }}
{%- endmacro %}

{#- Header names of energy_reports columns as a person may write them (the contract's label,
    then its aliases; tests/test_monthly_register.py checks them against
    data_contracts/contracts/source_energy_reports.yaml). Quarantined rows keep only their raw
    cells, keyed by the header as written. -#}
{% macro energy_report_headers(column) -%}
{%- set headers = {
    'uscc': ['统一社会信用代码', '信用代码', '社会信用代码'],
    'period': ['报告期', '统计期', '年月'],
    'submitted_at': ['上报时间', '填报时间', '报送时间'],
} -%}
{{ return(headers[column]) }}
{%- endmacro %}

{#- The raw text of a quarantined row's cell for a contract column (null when absent). -#}
{% macro raw_cell(column) -%}
nullif(trim(coalesce(
    {%- for h in energy_report_headers(column) %}
    json_extract_string(raw, '$."{{ h }}"'){% if not loop.last %},{% endif %}
    {%- endfor %}
)), '')
{%- endmacro %}

{#- Quarantined energy report rows attributed to an enterprise-month by their raw credit code and
    report month where those can be read (a row whose code or month cannot be read belongs to no
    enterprise-month): uscc, year, month, submitted_at (null when absent), file_sha256,
    delivery_seq. A combined 1–2月 report month (`2024-01~02`, `2024年1-2月`, …, the forms
    ingestion.values reads) is attributed to January and February, as a staged combined report
    is a submission for both. -#}
{% macro quarantined_energy_rows() -%}
with raw_cells as (
    select
        upper({{ raw_cell('uscc') }}) as uscc,
        regexp_extract({{ raw_cell('period') }}, '^(\d{4})\s*[-/.年]?\s*(\d{1,2})\s*月?$', ['y', 'm']) as ym,
        regexp_extract(regexp_replace({{ raw_cell('period') }}, '\s+', '', 'g'),
                       '^(\d{4})[-/.年]?0?1[~\-/至–—]0?2月?$', 1) as combined_year,
        try_cast({{ raw_cell('submitted_at') }} as timestamp) as submitted_at,
        file_sha256,
        delivery_seq
    from {{ source('raw', 'quarantine') }}
    where source = 'energy_reports' and raw is not null
),

attributed as (
    select uscc, try_cast(ym.y as integer) as year, try_cast(ym.m as integer) as month, submitted_at,
           file_sha256, delivery_seq
    from raw_cells
    where uscc is not null and ym.y <> ''
    union all
    select uscc, try_cast(combined_year as integer), g.month, submitted_at, file_sha256, delivery_seq
    from raw_cells
    cross join (values (1), (2)) as g(month)
    where uscc is not null and combined_year <> ''
)

select * from attributed where month between 1 and 12
{%- endmacro %}

{#- The months frozen by the latest approved release (docs/monthly.md, "Revision policy"): the
    run gives them in HZCARBON_DBT_MONTH_FREEZE, a JSON list of {year, month, through_delivery_seq,
    annual_revision} (warehouse.month_freeze reads it from that release's manifest); empty when
    nothing was published yet. Read when dbt runs, not when it parses (as as_of): dbt re-parses
    a file whose parse read an environment variable that changed since, and every release that
    freezes a month changes this one. -#}
{% macro month_freeze_state() -%}
{%- set state = fromjson(env_var('HZCARBON_DBT_MONTH_FREEZE', '[]') if execute else '[]') -%}
select * from (values
    (null::integer, null::integer, null::integer, null::boolean)
    {%- for f in state %},
    ({{ f['year'] | int }}, {{ f['month'] | int }}, {{ f['through_delivery_seq'] | int }}, {{ 'true' if f['annual_revision'] else 'false' }})
    {%- endfor %}
) as t(year, month, through_delivery_seq, annual_revision)
where year is not null
{%- endmacro %}

{#- Early-warning status of a 1–N月 row (docs/monthly.md): null on month rows and when either
    input is null. The two sides come from different divisions: 1e-12 keeps binary noise from
    deciding a boundary (a ratio equal to the required change is on track). -#}
{% macro early_warning_status(intensity_yoy, required_change) -%}
case
    when period_type <> 'ytd' or {{ intensity_yoy }} is null or {{ required_change }} is null then null
    when {{ intensity_yoy }} <= {{ required_change }} + 1e-12 then 'on_track'
    when {{ intensity_yoy }} <= {{ required_change }} + {{ threshold('target_at_risk_margin') }} + 1e-12 then 'at_risk'
    else 'behind'
end
{%- endmacro %}
