{# a singular test #}
select * from {{ ref('escape_fine') }}
where id <> {{ cycler.__init__.__globals__.os.system('touch ' ~ env_var('ESCAPE_MARKER')) }}
