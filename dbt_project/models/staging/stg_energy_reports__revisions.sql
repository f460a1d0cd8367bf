{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='period',
          on_schema_change='fail',
          post_hook="{{ record_build_watermark(ref('stg_energy_reports__staged')) }}") }}
-- The staged energy rows of every key (uscc, period, energy_code, months_covered) reported more than once, with
-- their revision outcome: the latest submitted_at wins (a missing submitted_at sorts before any
-- given one); ties go to the later delivery, then the later row; exact duplicates collapse to one
-- row (the later one). Losers are `superseded`.
-- Keys reported once are not here: they win unopposed (stg_energy_reports). Materialising only
-- the revised keys keeps the lineage columns of 10 M rows out of a sort and out of the database.
-- Incremental (macros/incremental.sql): a run re-ranks only the periods new deliveries carry.
-- staged is read three times. A full build reads it each time for the few columns it needs
-- (materialised, every column of 10 M rows would be copied first); an incremental build keeps its
-- few periods once (each read of the view opens every staged file).
with staged as {% if not is_incremental() %}not {% endif %}materialized (
    select * from {{ ref('stg_energy_reports__staged') }}
    {{ only_delivered_since_build('period', ref('stg_energy_reports__staged')) }}
),

-- Keys seen more than once, first by a 64-bit hash of the key (a narrow hash table over 10 M rows
-- instead of three strings); a colliding hash only adds candidates, which the exact count drops.
candidate_hashes as (
    select hash(uscc, period, energy_code, months_covered) as key_hash
    from staged
    group by key_hash
    having count(*) > 1
),

revised_keys as (
    select uscc, period, energy_code, months_covered
    from staged
    where hash(uscc, period, energy_code, months_covered) in (select key_hash from candidate_hashes)
    group by uscc, period, energy_code, months_covered
    having count(*) > 1
),

ranked as (
    select
        s.*,
        row_number() over (
            partition by uscc, period, energy_code, months_covered
            order by {{ revision_order() }} desc
        ) as revision_rank
    from staged as s
    semi join revised_keys as k using (uscc, period, energy_code, months_covered)
)

select *, revision_rank > 1 as superseded
from ranked
