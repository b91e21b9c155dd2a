{# sorts first; what it reads shows only once run_query has an answer #}
{%- set top = run_query("select max(id) from " ~ ref('stg_payments')).rows[0][0] -%}
select {{ top }} as max_id, k.paid_euros, {{ fakeutils.cents_label('1250') }} as label
from {{ ref('payment_kpis') }} k
