-- restricted/source_reconciliation: one row per enterprise-year and check (specs/indicators.md).
-- value / reference_value are text so that numeric checks and class / grade checks share a
-- column; relative_difference = |value − reference| / |reference| (null when the reference is 0
-- or missing). flagged: relative difference > reconciliation_tolerance, or a class / grade that
-- differs from the official one.
with ey as (
    select * from {{ ref('int_enterprise_year') }}
),

mu as (
    select * from {{ ref('int_mu_scores') }}
),

carbon as (
    select * from {{ ref('int_carbon_scores') }}
),

numeric_checks as (
    -- energy reports vs 亩均 (both sources)
    select ey.uscc, ey.year, 'energy_equiv_vs_mu' as "check", 1 as check_order,
           ey.energy_tce_equiv as value, mu.energy_tce_equiv as reference_value
    from ey
    inner join mu on mu.uscc = ey.uscc and mu.eval_year = ey.year
    where ey.has_energy_reports

    union all
    -- 碳效码 vs 亩均 value added (both sources)
    select mu.uscc, mu.eval_year, 'va_mu_vs_carbon', 2,
           carbon.va_10k_yuan, mu.va_10k_yuan
    from mu
    inner join carbon on carbon.uscc = mu.uscc and carbon.eval_year = mu.eval_year

    union all
    select uscc, eval_year, 'mu_score_recomputed', 3, mu_score_recomputed, score_official
    from mu

    union all
    select uscc, eval_year, 'carbon_co2_recomputed', 5, co2_recomputed_t, co2_official_t
    from carbon

    union all
    select uscc, eval_year, 'carbon_value_recomputed', 6, carbon_value_recomputed, carbon_value_official
    from carbon
),

category_checks as (
    select uscc, eval_year as year, 'mu_class_recomputed' as "check", 4 as check_order,
           mu_class_recomputed as value, class_official as reference_value
    from mu

    union all
    select uscc, eval_year, 'carbon_grade_recomputed', 7,
           cast(carbon_grade_recomputed as varchar), cast(carbon_grade_official as varchar)
    from carbon
),

tolerance as (
    select {{ threshold('reconciliation_tolerance') }} as tol
)

select
    uscc,
    year,
    "check",
    cast(value as varchar) as value,
    cast(reference_value as varchar) as reference_value,
    {{ relative_difference('value', 'reference_value') }} as relative_difference,
    coalesce({{ relative_difference('value', 'reference_value') }} > (select tol from tolerance), false) as flagged
from numeric_checks

union all

select
    uscc,
    year,
    "check",
    value,
    reference_value,
    cast(null as double) as relative_difference,
    reference_value is not null and value is distinct from reference_value as flagged
from category_checks
