{# the shape of dbt_utils.date_spine: the number of periods asked of the
   database with statement() and load_result(), then a series #}
{% macro periods_between(start_date, end_date, datepart) %}
    {% call statement('periods_between', fetch_result=True) %}
        select {{ dbt.datediff(start_date, end_date, datepart) }}
    {% endcall %}
    {%- set result = load_result('periods_between') -%}
    {%- if result and result['data'] -%}
        {%- set values = result['data'] | map(attribute=0) | list -%}
        {{ return(values[0] | int) }}
    {%- else -%}
        {{ return(1) }}
    {%- endif -%}
{% endmacro %}

{% macro day_spine(start_date, end_date) %}
    {%- set n = periods_between(start_date, end_date, 'day') -%}
    select ({{ start_date }} + n)::date as day
    from generate_series(0, {{ n - 1 }}) as n
{% endmacro %}
