select x from {{ ref('no_such_model') }}
