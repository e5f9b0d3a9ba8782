-- materialized: incremental
-- strategy: merge
-- unique_key: [customer_id, day]
-- partition_by: [day(ordered_at), bucket(16, customer_id), truncate(4, region), region]
-- description: customers with their orders, per day
SELECT o.customer_id, CAST(o.ordered_at AS DATE) AS day, count(*) AS orders
FROM curated.orders o JOIN gold.customers c USING (customer_id)
{% if is_incremental %} WHERE o.ordered_at > (SELECT max(ordered_at) FROM {{ this }}) {% endif %}
GROUP BY ALL;
