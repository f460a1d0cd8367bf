{#- Per accepted energy row: the formulas of docs/indicators.md (Energy) over `accepted_rows`
    (a relation or CTE with the columns of stg_energy_reports: one winner per uscc × period ×
    energy_code). int_energy_rows applies them to every accepted row; the monthly tables' frozen
    months (int_energy_enterprise_month_open) to the winners among the deliveries a period was
    published with. -#}
{% macro energy_row_formulas(accepted_rows) -%}
with rows_ as (
    select
        r.uscc,
        r.period,
        r.year,
        r.month,
        r.energy_code,
        r.months_covered,
        r.consumption as q,
        r.feedstock as f,
        r.conversion_output as o,
        r.enterprise_name,
        r.district_code,
        r.township,
        r.industry_code,
        r.division_code,
        r.submitted_at,
        r.delivery_seq,
        r."row_number"
    from {{ accepted_rows }} as r
)

select
    r.uscc,
    r.period,
    r.year,
    r.month,
    r.energy_code,
    r.months_covered,
    fc.category,
    (r.q - r.o) * fc.tce_per_unit as energy_tce,
    r.f * fc.tce_per_unit as feedstock_tce,
    (r.q - r.o) * fc.tce_per_unit - r.f * fc.tce_per_unit as energy_tce_net,
    (r.q - r.o) * fc.tce_per_unit_equiv as energy_tce_equiv,
    {{ co2_t('fc', 'direct') }} as co2_direct_t,
    {{ co2_t('fc', 'indirect') }} as co2_indirect_t,
    r.o * fc.tce_per_unit as conversion_output_tce,
    case when fc.category = 'electricity' then r.q else 0 end as electricity_10k_kwh,
    -- 原煤 in tonnes, gross (feedstock included): the monthly tables' coal_t
    case when r.energy_code = '01' then r.q else 0 end as coal_t,
    -- CO2 with the emission factors of the price base year (2020): the constant-factor intensity
    {{ co2_t('f0') }} as co2_total_t_2020f,
    fc.provisional,
    fc.factor_set,
    r.enterprise_name,
    r.district_code,
    r.township,
    r.industry_code,
    r.division_code,
    r.submitted_at,
    r.delivery_seq,
    r."row_number"
from rows_ as r
left join {{ ref('int_energy_factors') }} as fc
    on fc.year = r.year and fc.energy_code = r.energy_code
left join {{ ref('int_energy_factors') }} as f0
    on f0.year = {{ price_base_year() }} and f0.energy_code = r.energy_code
{%- endmacro %}

{#- CO2 in tonnes of one energy row `row` (its q = consumption, f = feedstock, o = conversion
    output, as in energy_row_formulas) with the factors of the int_energy_factors row `factors`
    (docs/indicators.md, Energy and CO2): a fuel emits directly, (q − f) × factor; electricity and
    heat emit indirectly, max(q − o, 0) × factor (net purchases only, clipped per row). `part`:
    'direct', 'indirect' or 'total' (their sum). The one place of this rule: energy_row_formulas
    applies it with the year's factors and with those of the price base year. -#}
{% macro co2_t(factors, part='total', row='r') -%}
{%- set direct -%}
case when {{ factors }}.co2_basis = 'fuel' then ({{ row }}.q - {{ row }}.f) * {{ factors }}.co2_t_per_unit else 0 end
{%- endset -%}
{%- set indirect -%}
case when {{ factors }}.co2_basis in ('electricity', 'heat') then greatest({{ row }}.q - {{ row }}.o, 0) * {{ factors }}.co2_t_per_unit else 0 end
{%- endset -%}
{%- if part == 'direct' -%}{{ direct }}
{%- elif part == 'indirect' -%}{{ indirect }}
{%- elif part == 'total' -%}{{ direct }} + {{ indirect }}
{%- else -%}{{ exceptions.raise_compiler_error("co2_t: part must be 'direct', 'indirect' or 'total', not " ~ part) }}
{%- endif -%}
{%- endmacro %}

{#- Energy per enterprise-month over `energy_rows` (rows of energy_row_formulas), optionally
    limited by a `where` clause: one row per uscc × year × month. The month's identity
    attributes are those of its latest revision. -#}
{% macro enterprise_month_aggregate(energy_rows, where='') -%}
select
    uscc,
    year,
    month,
    year * 100 + month as date_key,
    {{ exact_sum('energy_tce') }} as energy_tce,
    {{ exact_sum('feedstock_tce') }} as feedstock_tce,
    {{ exact_sum('energy_tce_net') }} as energy_tce_net,
    {{ exact_sum('energy_tce_equiv') }} as energy_tce_equiv,
    {{ exact_sum('co2_direct_t') }} as co2_direct_t,
    {{ exact_sum('co2_indirect_t') }} as co2_indirect_t,
    {{ exact_sum('co2_direct_t') }} + {{ exact_sum('co2_indirect_t') }} as co2_total_t,
    {{ exact_sum('conversion_output_tce') }} as conversion_output_tce,
    {{ exact_sum('electricity_10k_kwh') }} as electricity_10k_kwh,
    coalesce({{ exact_sum('energy_tce', "category = 'coal'") }}, 0) as coal_tce,
    coalesce({{ exact_sum('energy_tce', "category = 'electricity'") }}, 0) as electricity_tce,
    coalesce({{ exact_sum('coal_t') }}, 0) as coal_t,
    {{ exact_sum('co2_total_t_2020f') }} as co2_total_t_2020f,
    bool_or(energy_code = '01') as reported_coal,
    -- a combined 1–2月 report (February, covering January too; docs/monthly.md)
    bool_or(months_covered = 2) as combined,
    bool_or(provisional and category = 'electricity') as provisional,
    arg_max(
        {'district_code': district_code, 'township': township, 'industry_code': industry_code, 'division_code': division_code},
        {{ revision_order() }}
    ) as attrs,
    arg_max(enterprise_name, {{ revision_order() }}) filter (where enterprise_name is not null) as enterprise_name
from {{ energy_rows }}
{{ where }}
group by uscc, year, month
{%- endmacro %}

{#- The winners of revision resolution among the staged energy rows, one per uscc × period ×
    energy_code × months_covered: keys reported once pass straight through; revised keys
    contribute their winner (stg_energy_reports__revisions). -#}
{% macro energy_revision_winners() -%}
select s.*
from {{ ref('stg_energy_reports__staged') }} as s
anti join (select distinct uscc, period, energy_code, months_covered from {{ ref('stg_energy_reports__revisions') }}) as k
    using (uscc, period, energy_code, months_covered)

union all

select * exclude (revision_rank, superseded)
from {{ ref('stg_energy_reports__revisions') }}
where not superseded
{%- endmacro %}

{#- Whether a winning row belongs to the form of January–February report that lost to the other
    for its enterprise-year (stg_energy_reports__forms): `row` is the row's alias. -#}
{% macro lost_form(row, forms) -%}
({{ row }}.month <= 2 and {{ forms }}.losing_form = case when {{ row }}.months_covered = 2 then 'combined' else 'separate' end)
{%- endmacro %}
