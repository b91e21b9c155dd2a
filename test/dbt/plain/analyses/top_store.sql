select * from {{ ref('store_ranking') }} where rnk = 1
