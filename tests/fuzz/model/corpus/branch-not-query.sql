{% if is_incremental %}SELECT 1{% else %}DELETE FROM curated.orders{% endif %}
