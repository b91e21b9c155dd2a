select st.storeid, st.name, sum(sa.amount) as total
from {{ ref('stores') }} st
join {{ ref('sales') }} sa on sa.storeid = st.storeid
group by st.storeid, st.name
