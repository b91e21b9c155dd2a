{{ config(materialized='table') }}
select m.member_id,
       m.phone,
       length(m.phone) >= {{ var('min_phone_digits', 8) }} as has_valid_phone,
       coalesce(v.visits, 0) as visits
from {{ ref('stg_members') }} m
left join (select member_id, count(*) as visits from {{ source('gym', 'visits') }} group by member_id) v
  on v.member_id = m.member_id
