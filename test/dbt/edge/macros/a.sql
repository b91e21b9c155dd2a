{# calls a macro of b.sql, loaded after this file #}
{% macro euros(column) -%}
    {{ cents_to(column, 100) }}
{%- endmacro %}

{% macro inner_value() %}{{ return(5) }}{% endmacro %}
{% macro outer_value() %}{{ inner_value() + 1 }}{% endmacro %}
