{{ config(materialized='view') }}
-- Every staged energy row, normalised (blank township → null, division from the industry code,
-- year and month from the period, missing quantities → 0). A view: the 10 M-row table is read
-- from the staging Parquet by whoever needs it, never copied into the database.
select
    {{ staged_identity_columns() }},
    period,
    coalesce(year, cast(left(period, 4) as integer)) as year,
    coalesce(month, cast(right(period, 2) as integer)) as month,
    energy_name,
    energy_code,
    unit,
    coalesce(consumption, 0) as consumption,
    coalesce(feedstock, 0) as feedstock,
    coalesce(conversion_output, 0) as conversion_output,
    submitted_at,
    source_file,
    sheet,
    "row_number",
    delivery_seq,
    file_sha256
from {{ source('raw', 'energy_reports') }}
