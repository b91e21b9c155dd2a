{{ config(materialized='incremental', unique_key='visit_id') }}
select visit_id, member_id, checked_in_at, minutes / 60.0 as hours
from {{ source('gym', 'visits') }}
{% if is_incremental() %}
where checked_in_at > (select max(checked_in_at) from {{ this }})
{% endif %}
