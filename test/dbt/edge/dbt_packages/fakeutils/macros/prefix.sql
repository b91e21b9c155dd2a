{% macro label_prefix() -%}
    'cents: '
{%- endmacro %}
