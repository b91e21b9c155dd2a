{# a package macro calling one of another file of its package, unqualified #}
{% macro cents_label(column) -%}
    {{ label_prefix() }} || ({{ column }})::text
{%- endmacro %}
