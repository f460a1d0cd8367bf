-- open/green_manufacturing_progress: green factories and parks by scope (the city 330100 and each
-- district) and year, each entity counted once at its highest level with a title that year. For
-- the city, the target of reference/green_targets.csv and the status against the straight line
-- from the base-year count to the target: achieved (count ≥ target), on_track (count ≥ the line),
-- else behind. Levels below the target's lowest_level would not count; all three levels of the
-- lists are at or above 市级.
with years as (
    select year from {{ ref('int_years') }}
    where year >= (select min(base_year) from {{ ref('targets') }})
),

titles as (
    select *, case level when '国家级' then 3 when '省级' then 2 else 1 end as rank
    from {{ ref('int_green_titles') }}
),

held as (
    select y.year, t.entry_type, t.current_name, t.district_code, max(t.rank) as top_rank
    from years as y
    inner join titles as t
        on {{ green_title_held('t', 'y.year') }}
    group by all
),

city as (
    {{ city_scope() }}
),

scoped as (
    {{ city_and_district_scopes('held') }}
),

scopes as (
    select c.scope_code, y.year from city as c cross join years as y
    union
    select distinct s.scope_code, y.year from scoped as s cross join years as y
),

counts as (
    select
        s.scope_code,
        s.year,
        count(h.current_name) filter (where h.entry_type = '工厂') as green_factories,
        count(h.current_name) filter (where h.entry_type = '园区') as green_parks,
        count(h.current_name) filter (where h.entry_type = '工厂' and h.top_rank = 3) as factories_national,
        count(h.current_name) filter (where h.entry_type = '工厂' and h.top_rank = 2) as factories_provincial,
        count(h.current_name) filter (where h.entry_type = '工厂' and h.top_rank = 1) as factories_city,
        count(h.current_name) filter (where h.entry_type = '园区' and h.top_rank = 3) as parks_national,
        count(h.current_name) filter (where h.entry_type = '园区' and h.top_rank = 2) as parks_provincial,
        count(h.current_name) filter (where h.entry_type = '园区' and h.top_rank = 1) as parks_city
    from scopes as s
    left join scoped as h on h.scope_code = s.scope_code and h.year = s.year
    group by all
),

targets as (
    select
        scope_code,
        max(target_count) filter (where indicator = 'green_factories') as factory_target,
        max(target_count) filter (where indicator = 'green_parks') as park_target,
        max(target_year) as target_year,
        (select min(base_year) from {{ ref('targets') }}) as base_year
    from {{ ref('green_targets') }}
    group by scope_code
),

with_base as (
    select
        c.*,
        t.factory_target,
        t.park_target,
        t.target_year,
        t.base_year,
        max(c.green_factories) filter (where c.year = t.base_year) over (partition by c.scope_code) as factories_base,
        max(c.green_parks) filter (where c.year = t.base_year) over (partition by c.scope_code) as parks_base
    from counts as c
    left join targets as t on t.scope_code = c.scope_code
)

select
    scope_code,
    year,
    green_factories,
    green_parks,
    factories_national,
    factories_provincial,
    factories_city,
    parks_national,
    parks_provincial,
    parks_city,
    factory_target,
    park_target,
    target_year,
    {{ green_status('green_factories', 'factories_base', 'factory_target') }} as factory_status,
    {{ green_status('green_parks', 'parks_base', 'park_target') }} as park_status
from with_base
order by scope_code, year
