{#-
  Totals agree across levels: for each measure, the model's aggregate equals the `to` model's
  aggregate, grouped by `group_by` (a list, possibly empty) on both sides. Aggregates default to
  sum(<measure>); `model_exprs` / `to_exprs` override them per measure (e.g. a distinct count at
  enterprise level). `model_filter` / `to_filter` restrict the rows. Fails on every group and
  measure whose values differ by more than `tolerance` (relative, at least absolute 1e-6 × 1).
-#}
{% test totals_equal(model, to, measures, group_by=[], model_exprs={}, to_exprs={}, model_filter=none, to_filter=none, tolerance=0.000001) %}
with lhs as (
    select
        {% for g in group_by %}{{ g }}, {% endfor %}
        {% for m in measures %}{{ model_exprs.get(m, 'sum(' ~ m ~ ')') }} as {{ m }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ model }}
    {% if model_filter %}where {{ model_filter }}{% endif %}
    {% if group_by %}group by {{ group_by | join(', ') }}{% endif %}
),

rhs as (
    select
        {% for g in group_by %}{{ g }}, {% endfor %}
        {% for m in measures %}{{ to_exprs.get(m, 'sum(' ~ m ~ ')') }} as {{ m }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ to }}
    {% if to_filter %}where {{ to_filter }}{% endif %}
    {% if group_by %}group by {{ group_by | join(', ') }}{% endif %}
),

joined as (
    select
        {% for g in group_by %}coalesce(lhs.{{ g }}, rhs.{{ g }}) as {{ g }}, {% endfor %}
        {% for m in measures %}lhs.{{ m }} as lhs_{{ m }}, rhs.{{ m }} as rhs_{{ m }}{% if not loop.last %}, {% endif %}{% endfor %}
    from lhs
    full outer join rhs on {% if group_by %}{% for g in group_by %}lhs.{{ g }} = rhs.{{ g }}{% if not loop.last %} and {% endif %}{% endfor %}{% else %}true{% endif %}
)

{% for m in measures %}
select
    {% for g in group_by %}{{ g }}, {% endfor %}
    '{{ m }}' as measure,
    cast(lhs_{{ m }} as double) as model_value,
    cast(rhs_{{ m }} as double) as to_value
from joined
where abs(coalesce(cast(lhs_{{ m }} as double), 0) - coalesce(cast(rhs_{{ m }} as double), 0))
      > {{ tolerance }} * greatest(1, abs(coalesce(cast(rhs_{{ m }} as double), 0)))
   or (lhs_{{ m }} is null) <> (rhs_{{ m }} is null)
{% if not loop.last %}union all{% endif %}
{% endfor %}
{% endtest %}
