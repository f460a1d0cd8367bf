{{ config(materialized='view') }}
-- Per accepted energy row (one enterprise, month and energy type), q = consumption,
-- f = feedstock, o = conversion output, in canonical units (docs/indicators.md, Energy).
{{ energy_row_formulas(ref('stg_energy_reports')) }}
