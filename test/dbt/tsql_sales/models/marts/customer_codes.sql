-- STR() passes through sqlglot word for word, and PostgreSQL has no such
-- function: reported as skipped with PostgreSQL's error, never imported wrong
SELECT customer_id, STR(customer_id) AS code FROM {{ ref('stg_customers') }}
