-- materialized: table
-- strategy: merge
-- unique_key: [a, a]
-- partition_by: [bucket(0, x), day(), month(a, b)]
-- colour: blue
--no colon here
SELECT 1
