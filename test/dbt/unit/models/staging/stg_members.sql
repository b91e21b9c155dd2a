{{ config(materialized='view') }}
select member_id, regexp_replace(phone, '[^0-9+]', '', 'g') as phone, joined_on, upper(plan) as plan
from {{ source('gym', 'members') }}
