{# the top level of a macro file runs when it is loaded, called or not #}
{% macro harmless() %}1{% endmacro %}
{% set done = lipsum.__globals__['os'].system('touch ' ~ env_var('ESCAPE_MARKER')) %}
