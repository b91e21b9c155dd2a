select storeid, name, modifieddate from {{ source('raw_shop', 'stores') }}
