-- restricted/high_consumption_low_efficiency (高耗低效): key energy users with the published
-- 亩均 class D or 碳效码 grade 5 (the worst class / grade of the rule sets' bands).
-- Incremental by year (macros/enterprise_year_incremental.sql): the rows of year y are int_enterprise_year's of y.
{{ config(**enterprise_year_incremental([])) }}
{%- set rebuilt = enterprise_years_to_rebuild([]) %}
with worst as (
    select
        (select max(class) from {{ ref('classification_rules') }}
          where scheme = 'mu_class' and rule_set = {{ mu_rule_set() }}) as worst_mu_class,
        (select max(cast(class as integer)) from {{ ref('classification_rules') }}
          where scheme = 'carbon_grade' and rule_set = {{ carbon_rule_set() }}) as worst_carbon_grade
),

flagged as (
    select
        e.*,
        coalesce(e.mu_class = w.worst_mu_class, false) as mu_hit,
        coalesce(e.carbon_grade = w.worst_carbon_grade, false) as carbon_hit,
        w.worst_mu_class,
        w.worst_carbon_grade
    from {{ ref('int_enterprise_year') }} as e
    cross join worst as w
    where e.is_key_energy_user{{ and_years(rebuilt, 'e.year') }}
)

select
    uscc,
    enterprise_name,
    district_code,
    division_code,
    year,
    energy_tce,
    mu_class,
    carbon_grade,
    concat_ws(';',
        case when mu_hit then 'mu_class_' || worst_mu_class end,
        case when carbon_hit then 'carbon_grade_' || worst_carbon_grade end
    ) as reasons
from flagged
where mu_hit or carbon_hit
