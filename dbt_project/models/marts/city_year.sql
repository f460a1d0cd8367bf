-- open/city_year (before disclosure control): the city's enterprise-years per year.
{{ group_measures([]) }}
