{%- set codes = var('carbon_code_energy_codes') -%}
-- 碳效码 recomputation per accepted record, with the factors of the record's year
-- (docs/indicators.md): co2 = max(用电量 − 零碳电力, 0) × grid factor + Σ usage × factor;
-- L = co2 / 工业增加值; industry average per (year, division) = Σ co2 / Σ va over records with
-- va > 0; K = L / average; grade from the K bands and level from carbon_value through the L
-- bands (upper bound inclusive). va <= 0 or null: L, K and the recomputed grade are null.
with cc as (
    select * from {{ ref('stg_carbon_codes') }}
),

rule_set as (
    select {{ carbon_rule_set() }} as rule_set
),

bands as (
    select c.*
    from {{ ref('classification_rules') }} as c
    inner join rule_set as rs on c.rule_set = rs.rule_set
    where c.scheme in ('carbon_grade', 'carbon_level')
),

factors as (
    select
        year,
        max(co2_t_per_unit) filter (where category = 'electricity') as f_grid,
        bool_or(provisional) filter (where category = 'electricity') as grid_provisional,
        {%- for col, code in codes.items() %}
        max(co2_t_per_unit) filter (where energy_code = '{{ code }}') as f_{{ col }},
        {%- endfor %}
        max(factor_set) as factor_set
    from {{ ref('int_energy_factors') }}
    group by year
),

co2 as (
    select
        cc.*,
        cc.zero_carbon_10k_kwh > cc.electricity_10k_kwh as zero_carbon_clipped,
        greatest(cc.electricity_10k_kwh - cc.zero_carbon_10k_kwh, 0) * f.f_grid
        {%- for col, code in codes.items() %}
            + cc.{{ col }} * f.f_{{ col }}
        {%- endfor %} as co2_recomputed_t,
        f.grid_provisional as provisional,
        f.factor_set
    from cc
    left join factors as f on f.year = cc.eval_year
),

intensity as (
    select
        *,
        case when va_10k_yuan > 0 then co2_recomputed_t / va_10k_yuan end as carbon_value_recomputed
    from co2
),

industry_average as (
    select
        eval_year,
        division_code,
        {{ exact_sum('co2_recomputed_t') }} / nullif({{ exact_sum('va_10k_yuan') }}, 0) as industry_average
    from co2
    where va_10k_yuan > 0
    group by eval_year, division_code
),

k as (
    select
        i.*,
        ia.industry_average,
        {{ safe_div('i.carbon_value_recomputed', 'ia.industry_average') }} as carbon_k_recomputed
    from intensity as i
    left join industry_average as ia
        on ia.eval_year = i.eval_year and ia.division_code = i.division_code
),

band_versions as (
    {{ versions_in_force('bands', 'cc', 'eval_year', by=['scheme']) }}
),

-- Grade from the K bands in force (upper bound inclusive).
graded as (
    select
        k.*,
        cast(g.class as integer) as carbon_grade_recomputed
    from k
    left join band_versions as gv on gv.eval_year = k.eval_year and gv.scheme = 'carbon_grade'
    left join bands as g
        on g.scheme = 'carbon_grade'
        and g.valid_from_year = gv.valid_from_year
        and k.carbon_k_recomputed is not null
        and {{ in_band('k.carbon_k_recomputed', 'g', closed='upper') }}
),

published as (
    select
        g.*,
        coalesce(g.carbon_grade_official, g.carbon_grade_recomputed) as carbon_grade,
        case when g.carbon_grade_official is not null then 'official' else 'recomputed' end as carbon_grade_source,
        case
            when g.carbon_value_official is not null then g.carbon_value_official
            when g.carbon_grade_official is null then g.carbon_value_recomputed
        end as carbon_value
    from graded as g
)

select
    p.uscc,
    p.eval_year,
    p.division_code,
    p.va_10k_yuan,
    p.co2_official_t,
    p.co2_recomputed_t,
    p.zero_carbon_clipped,
    p.carbon_value_official,
    p.carbon_value_recomputed,
    p.industry_average,
    p.carbon_k_recomputed,
    p.carbon_grade_official,
    p.carbon_grade_recomputed,
    p.carbon_grade,
    p.carbon_grade_source,
    p.carbon_value,
    lv.class as carbon_level,
    coalesce(p.provisional, false) as provisional,
    p.factor_set,
    (select rule_set from rule_set) as carbon_rule_set
from published as p
left join band_versions as lvv on lvv.eval_year = p.eval_year and lvv.scheme = 'carbon_level'
-- Level from carbon_value through the L bands in force (upper bound inclusive).
left join bands as lv
    on lv.scheme = 'carbon_level'
    and lv.valid_from_year = lvv.valid_from_year
    and p.carbon_value is not null
    and {{ in_band('p.carbon_value', 'lv', closed='upper') }}
