{# import subprocess through the builtins of Jinja's runtime #}
{% set imp = self.__init__.__globals__['__builtins__']['__import__'] %}
{% do imp('subprocess').run(['touch', env_var('ESCAPE_MARKER')]) %}
select 1 as id
