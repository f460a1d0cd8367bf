{#- The select list of a staging model over a source: the source contract's columns in contract
    order (source_columns, generated from the contracts), then the lineage columns ingestion adds.
    An enterprise's identity is normalised the same way for every source: a blank township is
    null (not a township), a missing division is the industry code's first two digits
    (GB/T 4754). `expressions` gives another column its own expression ({'name': 'sql as name'}). -#}
{% macro staged_source_columns(source, expressions={}) -%}
{%- set identity = {
    'township': "nullif(trim(township), '') as township",
    'division_code': "coalesce(division_code, left(industry_code, 2)) as division_code",
} -%}
{%- for c in source_columns(source) + lineage_columns() -%}
    {{ expressions.get(c, identity.get(c, adapter.quote(c) if c == 'row_number' else c)) }}{{ ",\n    " if not loop.last }}
{%- endfor -%}
{%- endmacro %}

{#- The order of revisions of one key (docs/design.md): later submitted_at (a missing one before
    any given one), then later delivery, then later row. One HUGEINT instead of a struct of the
    three: aggregates and windows compare it far faster (arg_max over 10 M energy rows). Exact:
    the microseconds take the high 64 bits, delivery_seq and row_number (lineage, never null,
    0 <= value < 2^31) 32 bits each. -#}
{% macro revision_order(prefix='') -%}
(epoch_us(coalesce({{ prefix }}submitted_at, timestamp '0001-01-01'))::hugeint * 18446744073709551616
    + {{ prefix }}delivery_seq::hugeint * 4294967296 + {{ prefix }}"row_number")
{%- endmacro %}

{#- Every row of `relation` with its revision outcome (docs/design.md, docs/sources.md): numbered
    within its `key` (a list of column expressions) by `winner_first` (an ORDER BY list),
    `revision_rank` 1 wins and every other row is `superseded`; exact duplicates thus collapse to
    one. The order is a source's own rule: the latest 上报时间 (revision_order, the default) or,
    for sources without one, the most recently delivered file (`delivery_seq desc, "row_number"
    desc`). -#}
{% macro revision_outcome(relation, key, winner_first=revision_order() ~ ' desc') -%}
select *, revision_rank > 1 as superseded
from (
    select
        *,
        row_number() over (partition by {{ key | join(', ') }} order by {{ winner_first }}) as revision_rank
    from {{ relation }}
)
{%- endmacro %}

{#- The order of the sources whose revisions have no 上报时间: the most recently delivered file
    wins, then the later row. -#}
{% macro delivery_order() -%}
delivery_seq desc, "row_number" desc
{%- endmacro %}
