select saleid, storeid, amount from {{ source('raw_shop', 'sales') }}
