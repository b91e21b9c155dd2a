{%- set statuses = run_query("select distinct status from " ~ ref('stg_payments') ~ " order by 1").columns[0].values() -%}
select {% for s in statuses %}sum(case when status = '{{ s }}' then {{ euros('amount_cents') }} end) as {{ s }}_euros{% if not loop.last %}, {% endif %}{% endfor %},
       {{ outer_value() }} as six
from {{ ref('stg_payments') }}
