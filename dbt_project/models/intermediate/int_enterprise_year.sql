-- One row per enterprise-year with any accepted record (energy report, 亩均 or 碳效码): identity
-- (district of the latest-dated record, energy reports before 亩均 before 碳效码 on the same date;
-- industry from the latest energy report, else 亩均, else 碳效码; name of the enterprise's latest
-- record), energy, value added at current and 2020 prices, intensities for matched
-- enterprise-years, published and recomputed 亩均 / 碳效码 results, set ids and `provisional`.
-- Its rows per year are hashed after each build (record_content_signatures): the models
-- incremental by year downstream compare those hashes (macros/enterprise_year_incremental.sql).
{{ config(post_hook="{{ record_content_signatures() }}") }}
with records as (
    select * from {{ ref('int_enterprise_records_restated') }}
),

identity_year as (
    select
        uscc,
        year,
        arg_max(
            {'district_code': district_code, 'district_imputed': district_imputed},
            date_key * 10 + (10 - source_priority)
        ) as district,
        coalesce(
            arg_max({'industry_code': industry_code, 'division_code': division_code}, date_key)
                filter (where source = 'energy_reports'),
            arg_max({'industry_code': industry_code, 'division_code': division_code}, date_key)
                filter (where source = 'mu_evaluations'),
            arg_max({'industry_code': industry_code, 'division_code': division_code}, date_key)
                filter (where source = 'carbon_codes')
        ) as industry
    from records
    group by uscc, year
),

names as (
    select
        uscc,
        arg_max(enterprise_name, date_key * 10 + (10 - source_priority)) as enterprise_name
    from records
    where enterprise_name is not null
    group by uscc
),

energy as (
    select * from {{ ref('int_energy_enterprise_year') }}
),

mu as (
    select * from {{ ref('int_mu_scores') }}
),

carbon as (
    select * from {{ ref('int_carbon_scores') }}
),

base as (
    select
        iy.uscc,
        iy.year,
        n.enterprise_name,
        iy.district.district_code as district_code,
        iy.district.district_imputed as district_imputed,
        iy.industry.division_code as division_code,
        iy.industry.industry_code as industry_code,
        coalesce(e.months_reported, 0) as months_reported,
        coalesce(e.is_complete, false) as is_complete,
        e.energy_tce,
        e.feedstock_tce,
        e.conversion_output_tce,
        e.energy_tce_net,
        e.energy_tce_equiv,
        e.electricity_10k_kwh,
        e.co2_direct_t,
        e.co2_indirect_t,
        e.co2_total_t,
        e.coal_tce,
        e.electricity_tce,
        coalesce(e.provisional, false) as energy_provisional,
        coalesce(e.is_key_energy_user, false) as is_key_energy_user,
        case
            when mu.va_10k_yuan is not null then mu.va_10k_yuan
            when carbon.va_10k_yuan is not null then carbon.va_10k_yuan
        end as va_10k_yuan,
        case
            when mu.va_10k_yuan is not null then 'mu_evaluation'
            when carbon.va_10k_yuan is not null then 'carbon_code'
        end as va_source,
        mu.uscc is not null as has_mu_record,
        carbon.uscc is not null as has_carbon_record,
        mu.mu_scale,
        mu.mu_score,
        mu.mu_class,
        case when mu.uscc is not null then mu.mu_class_source end as mu_class_source,
        mu.mu_score_recomputed,
        mu.mu_class_recomputed,
        mu.mu_rule_set,
        carbon.carbon_value,
        carbon.carbon_level,
        carbon.carbon_grade,
        case when carbon.uscc is not null then carbon.carbon_grade_source end as carbon_grade_source,
        carbon.carbon_k_recomputed,
        carbon.carbon_grade_recomputed,
        carbon.carbon_rule_set,
        coalesce(carbon.provisional, false) as carbon_provisional
    from identity_year as iy
    left join names as n on n.uscc = iy.uscc
    left join energy as e on e.uscc = iy.uscc and e.year = iy.year
    left join mu on mu.uscc = iy.uscc and mu.eval_year = iy.year
    left join carbon on carbon.uscc = iy.uscc and carbon.eval_year = iy.year
),

deflated as (
    select
        b.*,
        b.va_10k_yuan / d.deflator_index as va_10k_yuan_2020p,
        coalesce(b.va_10k_yuan is not null and d.provisional, false) as va_provisional,
        b.is_complete and coalesce(b.va_10k_yuan > 0, false) as is_matched
    from base as b
    left join {{ ref('int_deflator_index') }} as d
        on d.year = b.year and d.division_code = b.division_code
)

select
    d.uscc,
    d.year,
    d.enterprise_name,
    d.district_code,
    d.district_imputed,
    d.division_code,
    d.industry_code,
    ind.key_group,
    ind.high_energy,
    d.months_reported,
    d.is_complete,
    d.energy_tce,
    d.feedstock_tce,
    d.conversion_output_tce,
    d.energy_tce_net,
    d.energy_tce_equiv,
    d.electricity_10k_kwh,
    d.co2_direct_t,
    d.co2_indirect_t,
    d.co2_total_t,
    d.va_10k_yuan,
    d.va_source,
    d.va_10k_yuan_2020p,
    case when d.is_matched then {{ safe_div('d.energy_tce_net', 'd.va_10k_yuan_2020p') }} end as energy_intensity,
    case when d.is_matched then {{ safe_div('d.co2_total_t', 'd.va_10k_yuan_2020p') }} end as co2_intensity,
    d.is_key_energy_user,
    d.mu_scale,
    d.mu_score,
    d.mu_class,
    d.mu_class_source,
    d.mu_score_recomputed,
    d.mu_class_recomputed,
    d.carbon_value,
    d.carbon_level,
    d.carbon_grade,
    d.carbon_grade_source,
    d.carbon_k_recomputed,
    d.carbon_grade_recomputed,
    fs.factor_set,
    d.mu_rule_set,
    d.carbon_rule_set,
    d.energy_provisional or d.va_provisional or d.carbon_provisional as provisional,
    -- helper columns for the group tables (not published at enterprise level)
    d.is_matched,
    d.months_reported > 0 as has_energy_reports,
    d.has_mu_record,
    d.has_carbon_record,
    d.coal_tce,
    d.electricity_tce,
    d.division_code = '{{ var("power_heat_supply_division") }}' as is_power_heat_supplier
from deflated as d
left join {{ ref('industries') }} as ind on ind.division_code = d.division_code
cross join (select {{ factor_set() }} as factor_set) as fs
