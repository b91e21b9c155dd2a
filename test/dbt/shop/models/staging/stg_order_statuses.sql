{# the statuses the source holds today, read when the project is imported #}
{%- set found = run_query("select distinct status from shop_raw.orders order by 1") -%}
select status, '{{ env_var("SHOP_CURRENCY", "EUR") }}' as currency,
       '{{ target.name }}' as target_name
from (values {% for row in found.rows %}('{{ row[0] }}'){% if not loop.last %}, {% endif %}{% endfor %}) as s (status)
