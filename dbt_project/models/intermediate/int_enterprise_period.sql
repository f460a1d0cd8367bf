{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='year',
          on_schema_change='fail',
          post_hook=["{{ insert_later_years(int_enterprise_period_rows, ref('int_energy_enterprise_month_open'), enterprise_period_years()) }}",
                     "{{ record_build_watermark(ref('stg_energy_reports__staged')) }}"]) }}
-- depends_on: {{ ref('int_month_freeze') }}
-- One row per enterprise × year × period (period_type 'month': month m alone; 'ytd': 1–m月),
-- m = 1..12, where the enterprise reported in the period of year y or of year y − 1
-- (docs/monthly.md). Levels (energy_tce, …) sum this year's accepted months; the comparable
-- basis (*_cmp, *_prev) sums, month by month, only the months reported in both years, so a
-- firm missing a month in either year drops that month from both sums.
-- The enterprise sits in the cell of its enterprise-year y (district, division, key group);
-- a leaver (no report in y) in that of its enterprise-year y, else y − 1: last year's figures
-- are restated to this year's scope.
-- Incremental: a year's rows read only the enterprise-months of y and y − 1 and the cells of its
-- enterprise-years, so a build rebuilds (delete+insert) only the years period_years_to_rebuild
-- names (macros/incremental.sql) and gives the rows a full build gives. Those years are noted
-- (note_years_rebuilt): its data tests check only them.
-- At scale a full build runs one statement per year (macros/year_at_a_time.sql). The rows are
-- int_enterprise_period_rows (macros/int_enterprise_period_rows.sql).
{%- if is_incremental() %}
{{ int_enterprise_period_rows(note_years_rebuilt(period_years_to_rebuild())) }}
{%- else %}
{{ int_enterprise_period_rows(first_year_of_full_build(ref('int_energy_enterprise_month_open'), enterprise_period_years())) }}
{%- endif %}
