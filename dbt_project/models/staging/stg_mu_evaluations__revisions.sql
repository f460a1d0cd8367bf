{{ config(materialized='table') }}
-- Every staged 亩均 row with its revision outcome. Key (uscc, eval_year): the row of the most
-- recently delivered file wins; identical rows within a file collapse to one.
with src as (
    select
        {{ staged_source_columns('mu_evaluations') }}
    from {{ source('raw', 'mu_evaluations') }}
)

{{ revision_outcome('src', ['uscc', 'eval_year'], delivery_order()) }}
