-- For every ledger file: rows_read = accepted + quarantined + superseded + withdrawn + total_rows.
select *
from {{ ref('data_quality') }}
where rows_read <> accepted + quarantined + superseded + withdrawn + total_rows
   or accepted < 0 or withdrawn < 0
   or out_of_scope > accepted  -- out-of-scope list entries are part of accepted
