{{ config(materialized='incremental', unique_key='order_id') }}
select o.order_id, o.customer_id, o.status, o.ordered_at, o.loaded_at, c.country_code
from {{ ref('stg_orders') }} o
join {{ ref('stg_customers') }} c using (customer_id)
{% if is_incremental() %}
where loaded_at > (select max(loaded_at) from {{ this }}) - interval '1 hour'
{% endif %}
