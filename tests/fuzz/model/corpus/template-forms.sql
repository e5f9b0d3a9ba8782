-- materialized: incremental
SELECT order_id,
       {%- if not is_incremental() -%} 'full' {% else %} 'incremental' {%- endif %} AS built_as,
       {{ is_incremental }} AS flag
FROM curated.orders
{% if is_incremental %}
WHERE order_id > (SELECT coalesce(max(order_id), 0)
                  FROM {{ this }})
{% endif %}
