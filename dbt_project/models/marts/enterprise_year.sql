-- restricted/enterprise_year: one row per uscc × year (docs/outputs.md).
select
    {{ contract_columns('enterprise_year') | join(',\n    ') }}
from {{ ref('int_enterprise_year') }}
