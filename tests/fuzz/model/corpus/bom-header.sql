-- materialized: view
SELECT 1 AS x
