select id,
       {{ config(materialized='table') }}
       {% if true %} 1 as y
from {{ ref('fine') }}
