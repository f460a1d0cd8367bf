-- Accepted value-added growth, one row per scope (a district or the city 330100) × month: the
-- published percentages as ratios (5.1 -> 0.051).
select
    district_code as scope_code,
    period,
    year,
    month,
    va_growth_month_pct / 100 as va_yoy_month,
    va_growth_ytd_pct / 100 as va_yoy_ytd,
    submitted_at,
    source_file,
    "row_number",
    delivery_seq,
    file_sha256
from {{ ref('stg_va_growth__revisions') }}
where not superseded
