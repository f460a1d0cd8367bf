{#- Signatures of the monthly models incremental by year (macros/incremental.sql,
    years_with_changed_inputs): per year, a hash of what the model's rows of that year read. -#}

{#- reporting_status (year y reads only rows of year y, and the register):
    - due: the months of y due by now and their due dates (as_of and "now" move them);
    - register: the spells, for every year (they decide the expected months and the first month shown);
    - accepted: the enterprise-months of y. int_energy_enterprise_month rebuilds every month a new
      staged row (accepted or superseded) carries, stamped built_through_delivery_seq = the latest
      staged delivery, which grows with every staged row: this covers the staged submissions of y
      too (a combined 1–2月 report is staged as February of the same year);
    - quarantined: quarantined energy rows attributed to y (the quarantine only grows, each
      delivery with a larger delivery_seq: their count and latest delivery change with any row);
    - held: the enterprise-months of y held for the annual revision (the freeze state moves them);
    - restated: the district of each enterprise-year of y (a 亩均 or 碳效码 delivery can move it). -#}
{% macro reporting_status_signature() -%}
{{ combine_signatures({
    'due': "select year, hash(list((month, due_date) order by month)) as h from " ~ ref('int_month_due')
           ~ " where cast(due_date + 1 as timestamp) <= " ~ now_at() ~ " group by year",
    'register': register_signature(),
    'quarantined': "select year, hash(count(*), max(delivery_seq)) as h from (" ~ quarantined_energy_rows()
                   ~ ") group by year",
    'accepted': accepted_months_signature(),
    'held': "select year, bit_xor(hash(uscc, month)) as h from (select distinct uscc, year, month from "
            ~ ref('int_energy_held') ~ ") group by year",
    'restated': "select year, bit_xor(hash(uscc, district_code)) as h from " ~ ref('int_enterprise_year')
                ~ " group by year",
}) }}
{%- endmacro %}

{#- The monthly group tables (int_city_month_sdc, int_district_month_sdc, int_key_group_month_sdc;
    year y reads only rows of year y):
    - periods: the rows of int_enterprise_period of y, which it rebuilds by year (every row of a
      year built in one dbt invocation: built_in_invocation);
    - publication: whether each month and 1–m月 of y is published (due dates, response shares). -#}
{% macro month_group_signature() -%}
{{ combine_signatures({
    'periods': "select year, hash(count(*), max(built_in_invocation)) as h from " ~ ref('int_enterprise_period')
               ~ " group by year",
    'publication': "select year, hash(list((month, month_published, ytd_published) order by month)) as h from "
                   ~ ref('int_month_publication') ~ " group by year",
}) }}
{%- endmacro %}

{#- int_energy_enterprise_month_open (year y reads only rows of year y):
    - accepted: the enterprise-months of y (as in reporting_status_signature);
    - held: the staged rows of y held for the annual revision;
    - freeze: the months of y frozen and the delivery each was frozen at. With the held rows and
      the freeze unchanged, the deliveries a held enterprise-month is recomputed from are too
      (staging only grows, by larger delivery_seq; a withdrawal is a full refresh). -#}
{% macro month_open_signature() -%}
{{ combine_signatures({
    'accepted': accepted_months_signature(),
    'held': "select year, bit_xor(hash(uscc, month, energy_code, delivery_seq)) as h from "
            ~ ref('int_energy_held') ~ " group by year",
    'freeze': "select year, hash(list((month, through_delivery_seq) order by month)) as h from "
              ~ ref('int_month_freeze') ~ " group by year",
}) }}
{%- endmacro %}

{#- int_month_publication (year y reads only rows of year y, and the register):
    - accepted: the enterprise-months of y (as in reporting_status_signature);
    - register: the spells, for every year (they decide the enterprises expected in each month);
    - due: every month of y with its due date, whether it is collected and whether it is past due
      by now (as_of moves it). -#}
{% macro month_publication_signature() -%}
{{ combine_signatures({
    'accepted': accepted_months_signature(),
    'register': register_signature(),
    'due': "select year, hash(list((month, due_date, collected, cast(due_date + 1 as timestamp) <= "
           ~ now_at() ~ ") order by month)) as h from " ~ ref('int_month_due') ~ " group by year",
}) }}
{%- endmacro %}

{#- The part of a signature for the enterprise-months of each year: int_energy_enterprise_month
    rebuilds every month a new staged row (accepted or superseded) carries, stamped
    built_through_delivery_seq = the latest staged delivery, so the count and that stamp change
    with any staged row of the year. -#}
{% macro accepted_months_signature() -%}
{{ return("select year, hash(count(*), max(built_through_delivery_seq)) as h from "
          ~ ref('int_energy_enterprise_month') ~ " group by year") }}
{%- endmacro %}

{#- The part of a signature for the register: its spells, the same for every year of int_month_due
    (they decide the enterprises expected in each month). -#}
{% macro register_signature() -%}
{{ return("select m.year, r.h from (select distinct year from " ~ ref('int_month_due') ~ ") as m"
          ~ " cross join (select bit_xor(hash(s)) as h from " ~ ref('int_register_spells') ~ " as s) as r") }}
{%- endmacro %}
