-- restricted/key_energy_users: enterprise-years with energy_tce >= key_energy_user_tce, plus
-- energy_tce over the same months of the previous year (同期) and the change against it.
-- Incremental by year (macros/enterprise_year_incremental.sql): the rows of year y read int_enterprise_year of y and the energy months of y and y − 1.
{{ config(**enterprise_year_incremental(['previous_months'])) }}
{%- set rebuilt = enterprise_years_to_rebuild(['previous_months']) %}
with key_users as (
    select * from {{ ref('int_enterprise_year') }}
    where is_key_energy_user{{ and_years(rebuilt) }}
),

months as (
    select * from {{ ref('int_energy_enterprise_month') }}
),

previous as (
    select
        k.uscc,
        k.year,
        {{ exact_sum('p.energy_tce') }} as energy_tce_prev_year
    from key_users as k
    inner join months as cur on cur.uscc = k.uscc and cur.year = k.year
    inner join months as p on p.uscc = k.uscc and p.year = k.year - 1 and p.month = cur.month
    group by k.uscc, k.year
)

select
    {% for c in contract_columns('key_energy_users') if c not in ('energy_tce_prev_year', 'energy_change_yoy') %}k.{{ c }},
    {% endfor -%}
    p.energy_tce_prev_year,
    {{ safe_div('k.energy_tce', 'p.energy_tce_prev_year') }} - 1 as energy_change_yoy
from key_users as k
left join previous as p on p.uscc = k.uscc and p.year = k.year
