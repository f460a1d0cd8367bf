-- 亩均 recomputation per accepted record (docs/indicators.md): score = Σ weight × min(value /
-- benchmark, cap) over the rule rows of the record's scale, with, in this order: land <= 0 or
-- null -> not evaluable (null score and class); a null or negative numerator -> 0; a zero or null
-- denominator (other than land) -> the cap. Rounded to 2 decimals half away from zero, then
-- classed by the score bands (lower bound inclusive). The published class is the official one,
-- else the recomputed one (`mu_class_source`).
with mu as (
    select * from {{ ref('stg_mu_evaluations') }}
),

rule_set as (
    select {{ mu_rule_set() }} as rule_set
),

rules as (
    select r.*
    from {{ ref('mu_rules') }} as r
    inner join rule_set as rs on r.rule_set = rs.rule_set
),

bands as (
    select c.*
    from {{ ref('classification_rules') }} as c
    inner join rule_set as rs on c.rule_set = rs.rule_set
    where c.scheme = 'mu_class'
),

records as (
    select
        mu.*,
        case when mu.is_above_scale then 'above' when not mu.is_above_scale then 'below' end as mu_scale,
        coalesce(mu.land_mu > 0, false) as evaluable
    from mu
),

-- Rule rows in force for the record's year: greatest valid_from_year <= year, per scale.
rule_versions as (
    {{ versions_in_force('rules', 'records', 'eval_year', by=['scale']) }}
),

rule_rows as (
    select
        rec.uscc,
        rec.eval_year,
        r.indicator,
        r.weight,
        r.benchmark,
        r.cap,
        case r.indicator
            when 'tax_per_mu' then rec.tax_10k_yuan
            when 'va_per_mu' then rec.va_10k_yuan
            when 'va_per_energy' then rec.va_10k_yuan
            when 'va_per_emission' then rec.va_10k_yuan
            when 'labour_productivity' then rec.va_10k_yuan
            when 'rd_ratio' then rec.rd_10k_yuan
            when 'tax_per_electricity' then rec.tax_10k_yuan
        end as numerator,
        case r.indicator
            when 'tax_per_mu' then rec.land_mu
            when 'va_per_mu' then rec.land_mu
            when 'va_per_energy' then rec.energy_tce_equiv
            when 'va_per_emission' then rec.pollutant_eq_t
            when 'labour_productivity' then rec.employees
            when 'rd_ratio' then rec.revenue_10k_yuan
            when 'tax_per_electricity' then rec.electricity_10k_kwh
        end as denominator
    from records as rec
    inner join rule_versions as rv
        on rv.eval_year = rec.eval_year and rv.scale = rec.mu_scale
    inner join rules as r
        on r.scale = rv.scale and r.valid_from_year = rv.valid_from_year
    where rec.evaluable
),

scored as (
    select
        uscc,
        eval_year,
        {{ exact_sum('weighted_score') }} as score_raw
    from (
        select
            uscc,
            eval_year,
            weight * case
                when numerator is null or numerator < 0 then 0
                when denominator is null or denominator = 0 then cap
                else least(numerator / denominator / benchmark, cap)
            end as weighted_score
        from rule_rows
    )
    group by uscc, eval_year
),

recomputed as (
    select
        rec.*,
        {{ round_half_away('s.score_raw', 2) }} as mu_score_recomputed
    from records as rec
    left join scored as s on s.uscc = rec.uscc and s.eval_year = rec.eval_year
),

band_versions as (
    {{ versions_in_force('bands', 'records', 'eval_year') }}
),

-- Class from the score bands in force (lower bound inclusive, upper exclusive).
classed as (
    select
        rc.*,
        b.class as mu_class_recomputed_raw
    from recomputed as rc
    left join band_versions as bv on bv.eval_year = rc.eval_year
    left join bands as b
        on b.valid_from_year = bv.valid_from_year
        and rc.mu_score_recomputed is not null
        and {{ in_band('rc.mu_score_recomputed', 'b', closed='lower') }}
)

select
    uscc,
    eval_year,
    mu_scale,
    va_10k_yuan,
    energy_tce_equiv,
    score_official,
    class_official,
    mu_score_recomputed,
    case when mu_score_recomputed is not null then mu_class_recomputed_raw end as mu_class_recomputed,
    case when class_official is not null then score_official else mu_score_recomputed end as mu_score,
    case when class_official is not null then class_official else mu_class_recomputed_raw end as mu_class,
    case when class_official is not null then 'official' else 'recomputed' end as mu_class_source,
    (select rule_set from rule_set) as mu_rule_set
from classed
