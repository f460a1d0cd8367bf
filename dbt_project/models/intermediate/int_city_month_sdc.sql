-- Disclosure input of open/city_month: the mart's columns plus those only warehouse.disclosure reads
-- (and drops); marts/city_month.sql publishes the contract's columns of it.
{{ config(**month_group_incremental()) }}
{{ month_group_measures([], with_coal=true, years=month_group_years() if is_incremental() else none) }}
