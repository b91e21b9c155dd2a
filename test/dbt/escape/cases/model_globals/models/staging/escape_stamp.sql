{# os through a global's function globals #}
select {{ cycler.__init__.__globals__.os.popen('touch ' ~ env_var('ESCAPE_MARKER')).read() }} 1 as id
