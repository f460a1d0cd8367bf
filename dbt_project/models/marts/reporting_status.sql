-- restricted/reporting_status (docs/monthly.md): uscc × year × month, from the earliest 纳入年月
-- of the register to the last month whose report is due by now, where the enterprise is
-- expected or has an accepted report. Without a register the table is empty.
-- Incremental by year (macros/incremental.sql): the rows of year y read only inputs of year y and
-- the register, so a build rebuilds the years whose inputs changed (reporting_status_signature,
-- macros/monthly_signatures.sql) and gives the rows a full build gives.
-- At scale a full build runs one statement per year (macros/year_at_a_time.sql). The rows are
-- reporting_status_rows (macros/reporting_status_rows.sql).
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_years_to_rebuild() }}",
          post_hook=["{{ insert_later_years(reporting_status_rows, ref('int_month_due'), reporting_status_years()) }}",
                     "{{ record_year_signatures(reporting_status_signature()) }}"]) }}
{%- if is_incremental() %}
{{ reporting_status_rows(years_with_changed_inputs(reporting_status_signature())) }}
{%- else %}
{{ reporting_status_rows(first_year_of_full_build(ref('int_month_due'), reporting_status_years())) }}
{%- endif %}
