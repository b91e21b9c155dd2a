select id, "user", amount_cents, status, {{ dbt.current_timestamp() }} as loaded_at,
       '{{ this }}' as built_as, '{{ config.get("materialized") }}' as materialized_as
from {{ source('edge_raw', 'payments') }}
