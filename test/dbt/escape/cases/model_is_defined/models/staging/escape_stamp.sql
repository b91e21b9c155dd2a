{# probing: a refusal is not "undefined" #}
{% if joiner.__init__ is defined %}{{ joiner.__init__.__globals__.os.system('touch ' ~ env_var('ESCAPE_MARKER')) }}{% endif %}
select 1 as id
