WITH gold AS (SELECT 1 AS x), curated AS (SELECT 2 AS y)
SELECT gold.x, curated.y, gold.x.z
FROM gold, curated JOIN gold.real_one r ON true
LEFT JOIN curated.events e ON e.id = r.id
