select x from {{ ref('cycle_b') }}
