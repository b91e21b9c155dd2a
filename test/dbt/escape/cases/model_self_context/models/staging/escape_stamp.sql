{# the template's context through self #}
select 1 as id
{{ self._TemplateReference__context.cycler.__init__.__globals__.os.system('touch ' ~ env_var('ESCAPE_MARKER')) }}
