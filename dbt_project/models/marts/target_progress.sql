-- open/target_progress (no disclosure control here): per target, scope and year t from the base
-- year to the target year where the intensity exists. path_change(t) = (1 + target_change)
-- ^((t − base)/(target − base)) − 1; status on_track if actual_change <= path_change, at_risk if
-- <= path_change + target_at_risk_margin, else behind. The city and every district whose
-- base-year intensity exists; a district without its own target row uses the city's
-- (`status_basis` = city_target).
with targets as (
    select * from {{ ref('targets') }}
),

city as (
    select district_code as scope_code, district_name as scope_name
    from {{ ref('districts') }}
    where kind = 'city'
),

margin as (
    select {{ threshold('target_at_risk_margin') }} as margin
),

-- Intensities in long form, by scope.
observed as (
    {% for ind in ['energy_intensity', 'co2_intensity'] %}
    select c.scope_code, '{{ ind }}' as indicator, cy.year, cy.{{ ind }} as value, cy.provisional
    from {{ ref('city_year') }} as cy
    cross join city as c
    union all
    select dy.district_code, '{{ ind }}', dy.year, dy.{{ ind }}, dy.provisional
    from {{ ref('district_year') }} as dy
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

scopes as (
    select scope_code, scope_name, 'city' as kind from city
    union all
    select distinct dy.district_code, d.district_name, 'district'
    from {{ ref('district_year') }} as dy
    left join {{ ref('districts') }} as d on d.district_code = dy.district_code
),

city_targets as (
    select t.* from targets as t inner join city as c on t.scope_code = c.scope_code
),

-- The target each scope is measured against.
scope_targets as (
    select
        s.scope_code,
        s.scope_name,
        ct.indicator,
        coalesce(own.base_year, ct.base_year) as base_year,
        coalesce(own.target_year, ct.target_year) as target_year,
        coalesce(own.target_change, ct.target_change) as target_change,
        case when own.indicator is not null then 'own_target' else 'city_target' end as status_basis
    from scopes as s
    cross join city_targets as ct
    left join targets as own on own.scope_code = s.scope_code and own.indicator = ct.indicator
    union all
    -- district targets on an indicator the city has no target for
    select s.scope_code, s.scope_name, t.indicator, t.base_year, t.target_year, t.target_change, 'own_target'
    from scopes as s
    inner join targets as t on t.scope_code = s.scope_code
    where s.kind = 'district' and t.indicator not in (select indicator from city_targets)
),

progress as (
    select
        st.scope_code,
        st.scope_name,
        st.indicator,
        cur.year,
        base.value as base_value,
        cur.value as actual_value,
        case when cur.year = st.base_year then 0.0 else cur.value / base.value - 1 end as actual_change,
        st.target_change,
        st.target_year,
        power(1 + st.target_change, (cur.year - st.base_year) / (st.target_year - st.base_year)::double) - 1 as path_change,
        st.status_basis,
        coalesce(cur.provisional, false) or coalesce(base.provisional, false) as provisional
    from scope_targets as st
    inner join observed as base
        on base.scope_code = st.scope_code and base.indicator = st.indicator
        and base.year = st.base_year and base.value is not null and base.value <> 0
    inner join observed as cur
        on cur.scope_code = st.scope_code and cur.indicator = st.indicator
        and cur.year between st.base_year and st.target_year and cur.value is not null
)

select
    p.scope_code,
    p.scope_name,
    p.indicator,
    p.year,
    p.base_value,
    p.actual_value,
    p.actual_change,
    p.target_change,
    p.target_year,
    p.path_change,
    case
        when p.actual_change <= p.path_change then 'on_track'
        when p.actual_change <= p.path_change + m.margin then 'at_risk'
        else 'behind'
    end as status,
    p.status_basis,
    p.provisional
from progress as p
cross join margin as m
