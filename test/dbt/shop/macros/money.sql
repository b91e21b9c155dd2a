{# Cents as euros, two decimals. #}
{% macro to_euros(column) -%}
    round({{ column }} / 100.0, 2)
{%- endmacro %}

{# One count column per status, named <status>_orders. #}
{% macro status_counts(statuses) -%}
    {%- for s in statuses %}
    count(*) filter (where status = '{{ s }}') as {{ s }}_orders{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{# Cents as a whole number of cents: adapters may say it their way. #}
{% macro cents(column) -%}
    {{ return(adapter.dispatch('cents', 'shop')(column)) }}
{%- endmacro %}

{% macro default__cents(column) -%}
    ({{ column }})::bigint
{%- endmacro %}
