-- open/key_group_month (before disclosure control): key group (建材, 化工, 纺织化纤 of
-- reference industries.csv) × year × month × period_type.
with m as (
    {{ month_group_measures(['key_group']) }}
)

select * from m where key_group is not null
