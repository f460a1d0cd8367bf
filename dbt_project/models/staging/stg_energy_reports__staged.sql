{{ config(materialized='view') }}
-- Every staged energy row, normalised (blank township → null, division from the industry code,
-- year and month from the period, missing quantities → 0). A view: the 10 M-row table is read
-- from the staging Parquet by whoever needs it, never copied into the database.
select
    {{ staged_source_columns('energy_reports', {
        'year': 'coalesce(year, cast(left(period, 4) as integer)) as year',
        'month': 'coalesce(month, cast(right(period, 2) as integer)) as month',
        'consumption': 'coalesce(consumption, 0) as consumption',
        'feedstock': 'coalesce(feedstock, 0) as feedstock',
        'conversion_output': 'coalesce(conversion_output, 0) as conversion_output',
        'months_covered': 'coalesce(months_covered, 1) as months_covered',
    }) }}
from {{ source('raw', 'energy_reports') }}
