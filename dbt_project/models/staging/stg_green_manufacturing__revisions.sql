{{ config(materialized='table') }}
-- Every staged green-list entry with its revision outcome. Key (list_year, entry_type, level,
-- name, region, change_type): the row of the most recently delivered file wins (a corrected list
-- replaces the first); identical rows within a file collapse to one.
{{ revision_outcome(source('raw', 'green_manufacturing'), ['list_year', 'entry_type', 'level', 'name', "coalesce(region, '')", 'change_type'], delivery_order()) }}
