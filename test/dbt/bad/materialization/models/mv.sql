{{ config(materialized='materialized_view') }}
select x from {{ ref('fine') }}
