{#- Rows per delivered file of every source, one union block a source (the sources come from the
    contracts, contract_sources()): `relation_of(source)` names the relation counted, e.g. the
    staged rows or the revision losers of that source. -#}
{% macro rows_per_file(relation_of) -%}
{%- for src in contract_sources() %}
    {% if not loop.first %}union all
    {% endif -%}
    select '{{ src }}' as source, file_sha256, count(*) as n
    from {{ relation_of(src) }} group by file_sha256
{%- endfor %}
{%- endmacro %}

{% macro superseded_relation(src) -%}{{ ref('stg_' ~ src ~ '_superseded') }}{%- endmacro %}

{% macro staged_relation(src) -%}{{ source('raw', src) }}{%- endmacro %}
