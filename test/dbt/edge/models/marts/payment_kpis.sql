select paid_euros, six from {{ ref('payment_totals') }}
