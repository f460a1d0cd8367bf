-- open/key_group_month (before disclosure control): key group (建材, 化工, 纺织化纤 of
-- reference industries.csv) × year × month × period_type.
select {{ contract_columns('key_group_month') | join(', ') }}
from {{ ref('int_key_group_month_sdc') }}
