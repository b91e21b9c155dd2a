select 1 as x from {{ ref('cycle_a') }}
