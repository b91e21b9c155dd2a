-- string + string is PostgreSQL's || (region and name are text columns
-- of stg_customers, '-' a string); number + number stays +
SELECT customer_id, region + '-' + name AS label, customer_id + 100 AS code FROM {{ ref('stg_customers') }}
