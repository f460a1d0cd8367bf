{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='period',
          on_schema_change='fail',
          post_hook="{{ record_build_watermark(ref('stg_energy_reports__staged')) }}") }}
-- The staged energy rows of every key (uscc, period, energy_code) reported more than once, with
-- their revision outcome: the latest submitted_at wins (a missing submitted_at sorts before any
-- given one); ties go to the later delivery, then the later row; exact duplicates collapse to one
-- row (the later one). Losers are `superseded`.
-- Keys reported once are not here: they win unopposed (stg_energy_reports). Materialising only
-- the revised keys keeps the lineage columns of 10 M rows out of a sort and out of the database.
-- Incremental (macros/incremental.sql): a run re-ranks only the periods new deliveries carry.
with staged as (
    select * from {{ ref('stg_energy_reports__staged') }}
    {{ only_delivered_since_build('period', ref('stg_energy_reports__staged')) }}
),

revised_keys as (
    select uscc, period, energy_code
    from staged
    group by uscc, period, energy_code
    having count(*) > 1
),

ranked as (
    select
        s.*,
        row_number() over (
            partition by uscc, period, energy_code
            order by submitted_at desc nulls last, delivery_seq desc, "row_number" desc
        ) as revision_rank
    from staged as s
    semi join revised_keys as k using (uscc, period, energy_code)
)

select *, revision_rank > 1 as superseded
from ranked
