{# incremental, its watermark given in meta #}
{{ config(materialized='incremental', unique_key='ordered_at',
          meta={'medallion': {'watermark': 'ordered_at', 'lookback': '2 days'}}) }}
select ordered_at, count(*) as orders
from {{ ref('stg_orders') }}
{% if is_incremental() %}
where ordered_at >= (select max(ordered_at) - 2 from {{ this }})
{% endif %}
group by ordered_at
