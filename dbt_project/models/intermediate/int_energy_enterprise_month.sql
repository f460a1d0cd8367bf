{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='date_key',
          on_schema_change='fail',
          post_hook="{{ record_build_watermark(ref('stg_energy_reports__staged')) }}") }}
-- Energy per enterprise-month: the per-row formulas summed early (one row per uscc × month).
-- The month's identity attributes (name, district, township, industry) are those of its latest
-- revision (submitted_at, then delivery, then row).
-- Incremental (macros/incremental.sql): a run rebuilds only the months that new deliveries touch.
with agg as (
{{ enterprise_month_aggregate(ref('int_energy_rows'), only_delivered_since_build('period', ref('stg_energy_reports__staged'), note_years=true)) }}
)

select
    * exclude (attrs),
    attrs.district_code as district_code,
    attrs.township as township,
    attrs.industry_code as industry_code,
    attrs.division_code as division_code,
    -- lineage: the latest delivery staged when this month was built
    {{ latest_staged_delivery(ref('stg_energy_reports__staged')) }} as built_through_delivery_seq
from agg
