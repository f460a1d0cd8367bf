-- restricted/source_reconciliation: one row per enterprise-year and check (docs/indicators.md).
-- value / reference_value are numbers; 亩均 classes are coded by their rank in the rule set's
-- bands (A = 1, B = 2, C = 3, D = 4: highest band first), 碳效码 grades are 1–5 as they are.
-- relative_difference = |value − reference| / |reference| (null when the reference is 0 or
-- missing; null for the class / grade checks). flagged: relative difference >
-- reconciliation_tolerance, or a class / grade that differs from the official one.
-- Incremental by year (macros/enterprise_year_incremental.sql): the rows of year y read
-- int_enterprise_year and the 亩均 / 碳效码 scores of y.
{{ config(**enterprise_year_incremental(['scores'])) }}
{%- set rebuilt = enterprise_years_to_rebuild(['scores']) %}
with ey as (
    select * from {{ ref('int_enterprise_year') }}
    where true{{ and_years(rebuilt) }}
),

mu as (
    select * from {{ ref('int_mu_scores') }}
    where true{{ and_years(rebuilt, 'eval_year') }}
),

carbon as (
    select * from {{ ref('int_carbon_scores') }}
    where true{{ and_years(rebuilt, 'eval_year') }}
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

class_codes as (
    select
        class,
        row_number() over (order by lower_bound desc nulls last, class) as class_code
    from {{ ref('classification_rules') }}
    where scheme = 'mu_class'
      and rule_set = {{ mu_rule_set() }}
      and valid_from_year = (
          select max(valid_from_year) from {{ ref('classification_rules') }}
          where scheme = 'mu_class' and rule_set = {{ mu_rule_set() }}
      )
),

category_checks as (
    select mu.uscc, mu.eval_year as year, 'mu_class_recomputed' as "check", 4 as check_order,
           rc.class_code as value, oc.class_code as reference_value,
           mu.mu_class_recomputed as value_raw, mu.class_official as reference_raw
    from mu
    left join class_codes as rc on rc.class = mu.mu_class_recomputed
    left join class_codes as oc on oc.class = mu.class_official

    union all
    select uscc, eval_year, 'carbon_grade_recomputed', 7,
           carbon_grade_recomputed, carbon_grade_official,
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
    cast(value as double) as value,
    cast(reference_value as double) as reference_value,
    {{ relative_difference('value', 'reference_value') }} as relative_difference,
    coalesce({{ relative_difference('value', 'reference_value') }} > (select tol from tolerance), false) as flagged
from numeric_checks

union all

select
    uscc,
    year,
    "check",
    cast(value as double) as value,
    cast(reference_value as double) as reference_value,
    cast(null as double) as relative_difference,
    reference_raw is not null and value_raw is distinct from reference_raw as flagged
from category_checks
