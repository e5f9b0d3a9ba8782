-- materialized: view
-- description: a view "with" quotes: and colons
WITH big AS (SELECT * FROM gold.totals WHERE total > 100)
SELECT * FROM big
