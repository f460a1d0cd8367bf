{{ config(materialized='table') }}
-- Every staged 增加值增速 row with its revision outcome (docs/monthly.md). Key (district_code,
-- period): a revised figure supersedes the first — the latest 上报时间 wins (a missing one sorts
-- before any given one), then the later delivery, then the later row.
with src as (
    select
        {{ staged_source_columns('va_growth') }}
    from {{ source('raw', 'va_growth') }}
)

{{ revision_outcome('src', ['district_code', 'period']) }}
