-- materialized: incremental
-- unique_key: customer_id
SELECT customer_id, count(*) AS orders FROM curated.orders
{% if is_incremental %}WHERE customer_id IN (SELECT customer_id FROM {{ changed_keys }}){% endif %}
GROUP BY customer_id
