-- open/city_month (before disclosure control): the city per year × month × period_type
-- (docs/monthly.md). Disclosure control (growth and coal rules) is warehouse.disclosure's.
{{ month_group_measures([], with_coal=true) }}
