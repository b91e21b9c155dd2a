-- the project's SQL ends the transaction the import runs in
{% do run_query('commit') %}
select 1 as id
