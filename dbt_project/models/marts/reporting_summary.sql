-- restricted/reporting_summary (docs/monthly.md): district × year × month, the count of each
-- status and the response share (accepted reports of expected enterprises / expected).
-- Incremental by year (macros/incremental.sql): the rows of year y count reporting_status's rows
-- of y, which change only when the signature of its inputs of y does: a build rebuilds the years
-- whose reporting_status signature changed since this table was built.
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_years_to_rebuild() }}",
          post_hook="{{ record_year_signatures(year_signatures_of('reporting_status')) }}") }}
{%- set rebuilt = years_with_changed_inputs(year_signatures_of('reporting_status')) if is_incremental() else none %}
select
    s.district_code,
    d.district_name,
    s.year,
    s.month,
    count(*) filter (where s.expected) as expected_count,
    count(*) filter (where s.status = 'on_time') as on_time_count,
    count(*) filter (where s.status = 'late') as late_count,
    count(*) filter (where s.status = 'quarantined') as quarantined_count,
    count(*) filter (where s.status = 'missing') as missing_count,
    count(*) filter (where s.status = 'unexpected') as unexpected_count,
    {{ safe_div("count(*) filter (where s.status in ('on_time', 'late'))", "count(*) filter (where s.expected)") }} as response_share
from {{ ref('reporting_status') }} as s
left join {{ ref('districts') }} as d on d.district_code = s.district_code
where true{{ and_years(rebuilt, 's.year') }}
group by s.district_code, d.district_name, s.year, s.month
