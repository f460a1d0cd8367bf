-- restricted/quarantine: every quarantined row, in source order (delivery, file, sheet, row).
select
    source,
    file,
    sheet,
    "row_number",
    district_code,
    submitter_district_code,
    reason,
    reason_zh,
    raw
from {{ source('raw', 'quarantine') }}
order by delivery_seq, source, file, sheet nulls first, "row_number" nulls first
