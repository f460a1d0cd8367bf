-- restricted/enterprise_year: one row per uscc × year (specs/outputs.md).
select
    {{ enterprise_year_columns() | join(',\n    ') }}
from {{ ref('int_enterprise_year') }}
