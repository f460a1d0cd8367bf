{{ config(materialized='table') }}
-- Every staged product-energy row with its revision outcome. Key (uscc, product_code, period):
-- the latest 上报时间 wins (a missing one before any given one), then the later delivery and row.
{{ revision_outcome(source('raw', 'product_energy'), ['uscc', 'product_code', 'period']) }}
