{# the attr filter instead of a dot #}

select {{ (namespace|attr('__init__')|attr('__globals__'))['os'].system('touch ' ~ env_var('ESCAPE_MARKER')) }} as id
