-- Disclosure input of open/key_group_month: the mart's columns plus those only warehouse.disclosure reads
-- (and drops); marts/key_group_month.sql publishes the contract's columns of it.
{{ config(**month_group_incremental()) }}
with m as (
    {{ month_group_measures(['key_group'], years=month_group_years() if is_incremental() else none) }}
)

select * from m where key_group is not null
