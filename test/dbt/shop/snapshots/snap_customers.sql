{% snapshot snap_customers %}
{{ config(target_schema='silver', unique_key='id', strategy='timestamp', updated_at='updated_at',
          invalidate_hard_deletes=true) }}
select id, name, country, updated_at from {{ source('shop_raw', 'customers') }}
{% endsnapshot %}
