-- Disclosure input of open/key_group_month: the mart's columns plus those only warehouse.disclosure reads
-- (and drops); marts/key_group_month.sql publishes the contract's columns of it.
with m as (
    {{ month_group_measures(['key_group']) }}
)

select * from m where key_group is not null
