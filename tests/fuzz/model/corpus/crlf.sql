-- materialized: table
-- partition_by: day(ts)
SELECT ts
FROM curated.events
