select x from {{ ref('cycle_c') }}
