{# the importer's connection through config: commit what a dry run rolls back #}
{% do config.renderer.importer.conn.execute('create table public.escape_committed ()') %}
{% do config.renderer.importer.conn.commit() %}
select 1 as id
