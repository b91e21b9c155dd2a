{% macro cents_to(column, per) -%}
    round({{ column }}::numeric / {{ per }}, 2)
{%- endmacro %}
