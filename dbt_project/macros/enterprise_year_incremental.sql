{#- Models downstream of int_enterprise_year incremental by year (docs/design.md, "Incremental by
    the signature of their inputs"). Their rows of year y read int_enterprise_year's rows of y (and,
    for some, of the price base year, of y − 1's energy months or of y's 亩均 / 碳效码 scores), so a
    build rebuilds only the years whose inputs changed, through the year-signature machinery of
    macros/incremental.sql (years_with_changed_inputs, delete_years_to_rebuild,
    record_year_signatures). int_enterprise_year is rebuilt whole by every build that reaches it;
    its post-hook records a hash of its rows per year (record_content_signatures), which the
    signatures below read instead of hashing its ~300,000 rows (at 50,000 enterprises) once per
    model. Seeds, vars and SQL are not in the signatures: a change to them is a full refresh. -#}

{% macro content_signatures() -%}main.build_content_signatures{%- endmacro %}

{#- on-run-start: the table exists before any model asks for it. -#}
{% macro create_content_signatures() -%}
create table if not exists {{ content_signatures() }} (model varchar, year integer, signature ubigint, primary key (model, year))
{%- endmacro %}

{#- Per year, a hash of a relation's rows: their count and the xor of each row's hash. DuckDB hashes
    -0.0 as 0.0, and a sign is part of what is published: the sign of every floating column is
    hashed with the row (hashing the row as text instead cost ten times as much). -#}
{% macro rows_signature(relation, year_column='year') -%}
{%- set floats = [] -%}
{%- if execute -%}
    {%- for c in adapter.get_columns_in_relation(relation) if c.dtype | upper in ('DOUBLE', 'FLOAT', 'REAL') -%}
        {%- do floats.append('signbit(t.' ~ adapter.quote(c.name) ~ ')') -%}
    {%- endfor -%}
{%- endif -%}
select {{ year_column }} as year, hash(count(*), bit_xor(hash(t{% if floats %}, [{{ floats | join(', ') }}]{% endif %}))) as h
from {{ relation }} as t
group by {{ year_column }}
{%- endmacro %}

{#- post-hook (two statements): this model's rows per year as built. -#}
{% macro record_content_signatures() -%}
delete from {{ content_signatures() }} where model = '{{ this.identifier }}';
insert into {{ content_signatures() }}
select '{{ this.identifier }}', year, h from ({{ rows_signature(this) }})
{%- endmacro %}

{#- The signature of a model whose year-y rows read int_enterprise_year of y, plus `parts`:
    - 'base_year': int_enterprise_year of the price base year (changes against 2020 prices);
    - 'previous_months': the energy months of y and y − 1 (同期 comparisons).
      int_energy_enterprise_month rebuilds every month a staged row carries, stamped with the
      latest staged delivery (as reporting_status_signature reads it);
    - 'scores': the 亩均 and 碳效码 scores of y. -#}
{% macro enterprise_year_signature(parts=[]) -%}
{%- set ey = "select year, signature as h from " ~ content_signatures() ~ " where model = 'int_enterprise_year'" -%}
{%- set sql = {'enterprise_year': ey} -%}
{%- if 'base_year' in parts -%}
    {%- do sql.update({'base_year': "select y.year, b.h from (" ~ ey ~ ") as y cross join (select h from ("
                                    ~ ey ~ ") where year = " ~ price_base_year() ~ ") as b"}) -%}
{%- endif -%}
{%- if 'previous_months' in parts -%}
    {%- set months = "select year, hash(count(*), max(built_through_delivery_seq)) as h from "
                     ~ ref('int_energy_enterprise_month') ~ " group by year" -%}
    {%- do sql.update({'months': months,
                       'previous_months': "select year + 1 as year, h from (" ~ months ~ ")"}) -%}
{%- endif -%}
{%- if 'scores' in parts -%}
    {%- do sql.update({'mu_scores': rows_signature(ref('int_mu_scores'), 'eval_year'),
                       'carbon_scores': rows_signature(ref('int_carbon_scores'), 'eval_year')}) -%}
{%- endif -%}
{{ combine_signatures(sql) }}
{%- endmacro %}

{#- The config of such a model: incremental by year, appended after its changed years are deleted. -#}
{% macro enterprise_year_incremental(parts=[]) -%}
{{ return({'materialized': 'incremental', 'incremental_strategy': 'append', 'on_schema_change': 'fail',
           'pre_hook': "{{ delete_years_to_rebuild() }}",
           'post_hook': "{{ record_year_signatures(enterprise_year_signature(" ~ parts ~ ")) }}"}) }}
{%- endmacro %}

{#- The years an incremental build rebuilds (none: a full build). -#}
{% macro enterprise_years_to_rebuild(parts=[]) -%}
{{ return(years_with_changed_inputs(enterprise_year_signature(parts)) if is_incremental() else none) }}
{%- endmacro %}

{#- " and <column> in (…)" keeping, on an incremental build, only the rows of the years rebuilt
    (nothing on a full build: years is none). -#}
{% macro and_years(years, column='year') -%}
{%- if years is not none %} and /* incremental build */ {{ year_in(years, column) }}{% endif -%}
{%- endmacro %}
