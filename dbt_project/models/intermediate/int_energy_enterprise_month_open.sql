-- Energy per enterprise-month as the open monthly tables take it in (docs/monthly.md, "Revision
-- policy"): int_energy_enterprise_month, except for the enterprise-months of a frozen month with
-- held deliveries (int_energy_held), which are recomputed from the deliveries the month was frozen
-- at (the latest revision among them wins, as in stg_energy_reports__revisions). An enterprise
-- whose only report for the month is held has no row here.
-- Incremental by year (macros/incremental.sql): the rows of year y read only inputs of year y, so a
-- build rebuilds the years whose inputs changed (month_open_signature, macros/monthly_signatures.sql).
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_years_to_rebuild() }}",
          post_hook="{{ record_year_signatures(month_open_signature()) }}") }}
{%- set rebuilt = years_with_changed_inputs(month_open_signature()) if is_incremental() else none %}
with held_keys as (
    select distinct uscc, year, month from {{ ref('int_energy_held') }}
    where true{{ and_years(rebuilt) }}
),

kept as (
    select em.uscc, em.year, em.month,
        {% for m in monthly_measures() %}em.{{ m }}, {% endfor %}
        em.reported_coal, em.provisional, em.combined
    from {{ ref('int_energy_enterprise_month') }} as em
    anti join held_keys as h using (uscc, year, month)
    where true{{ and_years(rebuilt, 'em.year') }}
),

frozen_winners as (
    select s.*
    from {{ ref('stg_energy_reports__staged') }} as s
    semi join held_keys as h using (uscc, year, month)
    inner join {{ ref('int_month_freeze') }} as f on f.year = s.year and f.month = s.month
    where s.delivery_seq <= f.through_delivery_seq{{ and_years(rebuilt, 's.year') }}
    qualify row_number() over (partition by s.uscc, s.period, s.energy_code order by {{ revision_order('s.') }} desc) = 1
),

frozen_rows as (
    {{ energy_row_formulas('frozen_winners') }}
),

recomputed as (
    {{ enterprise_month_aggregate('frozen_rows') }}
)

select * from kept
union all
select uscc, year, month,
    {% for m in monthly_measures() %}{{ m }}, {% endfor %}
    reported_coal, provisional, combined
from recomputed
