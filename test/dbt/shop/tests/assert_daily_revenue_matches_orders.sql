-- the daily revenue adds up to the revenue of the orders
select 1
from (select sum(revenue_euros) as r from {{ ref('fct_daily_revenue') }}) d,
     (select sum(amount_euros) as r from {{ ref('fct_orders') }}) o
where d.r <> o.r
