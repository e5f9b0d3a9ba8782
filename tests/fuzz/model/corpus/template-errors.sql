SELECT 1
{% if is_incremental %}
  {% if is_incremental %} nested {% endif %}
{% else %} {% else %}
{{ that }} {% for x in y %}
