-- string + string translates word for word, and PostgreSQL refuses it:
-- reported as skipped with PostgreSQL's error, never imported wrong
SELECT customer_id, region + '-' + name AS label FROM {{ ref('stg_customers') }}
