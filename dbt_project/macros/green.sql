{#- Green-list names (docs/green.md): NFKC's full-width-to-half-width folding, brackets
    unified, every space removed (the full-width one too), then the company suffixes dropped, so
    `杭州萧山示例水泥　有限公司`, `杭州萧山示例水泥有限公司` and `杭州萧山示例水泥` are one name.
    The mapping is written out because DuckDB has NFC but no NFKC. -#}
{% macro normalise_name(expr) -%}
regexp_replace(
    regexp_replace(
        translate({{ expr }}, '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～【】〔〕［］〈〉', '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~()()()()'),
        '[\s\x{3000}\x{00A0}]+', '', 'g'),
    '(股份有限公司|有限责任公司|有限公司)$', '')
{%- endmacro %}

{#- A name as green-list matching compares it: normalised, then mapped to the bureau's name when
    reference/green_aliases.csv lists it as an alias (cases the rules miss). -#}
{% macro green_name(expr) -%}
coalesce(
    (select max({{ normalise_name('a.name') }}) from {{ ref('green_aliases') }} as a
     where {{ normalise_name('a.alias') }} = {{ normalise_name(expr) }}),
    {{ normalise_name(expr) }})
{%- endmacro %}

{#- Status of a count against its target on the straight line from the base-year count to the
    target in the target year (docs/green.md); null without a target. -#}
{% macro green_status(count, base, target) -%}
case
    when {{ target }} is null then null
    when {{ count }} >= {{ target }} then 'achieved'
    when {{ count }} >= {{ base }} + ({{ target }} - {{ base }})
        * least(1.0, (year - base_year) / (target_year - base_year)) then 'on_track'
    else 'behind'
end
{%- endmacro %}

{#- Rounding to `digits` decimals by GB/T 8170 (a 5 followed by nothing rounds to the even
    digit), with `digits` a column: DuckDB's round_even needs a constant precision, so the value
    is scaled exactly as a DECIMAL first (9 decimals absorb binary noise). -#}
{% macro round_gbt8170(expr, digits) -%}
cast(round_even(cast({{ expr }} as decimal(38, 9)) * cast(pow(10, {{ digits }}) as decimal(18, 0)), 0)
     / cast(pow(10, {{ digits }}) as decimal(18, 0)) as double)
{%- endmacro %}

{#- Whether the int_green_titles row `title` holds its title in year `year` (docs/green.md): from
    its listed_from year until the year before its withdrawn_from year (never withdrawn: open). -#}
{% macro green_title_held(title, year) -%}
({{ title }}.listed_from <= {{ year }} and {{ year }} < coalesce({{ title }}.withdrawn_from, 10000))
{%- endmacro %}
