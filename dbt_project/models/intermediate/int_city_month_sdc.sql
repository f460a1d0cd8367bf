-- Disclosure input of open/city_month: the mart's columns plus those only warehouse.disclosure reads
-- (and drops); marts/city_month.sql publishes the contract's columns of it.
{{ month_group_measures([], with_coal=true) }}
